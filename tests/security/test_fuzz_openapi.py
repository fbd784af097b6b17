"""A property-based run of every service's OpenAPI document (issue 12): requests generated from
the schema (schemathesis 4, valid and invalid inputs, derandomized, a fixed number per
operation) are sent in-process to the running app on the real embedded servers; none may get
a 5xx. Bounded to fit CI: the four services together take well under a minute."""

from __future__ import annotations

import contextlib
import importlib
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from hypothesis.strategies import SearchStrategy
from schemathesis import Case, GenerationMode
from schemathesis.core.result import Err

from shared.outbox import encode
from tests.analytics.factory import catalog_event
from tests.support import eventually, serving, unique, wait_ready

EXAMPLES_PER_MODE = 4  # per operation, for each of valid and invalid inputs
# A live event stream never ends: an in-process client would wait on it for ever.
NOT_FUZZED = {("GET", "/api/v1/reports/{report_id}/stream")}


@dataclass(frozen=True)
class Service:
    name: str
    settings: str  # the settings class in services/<name>/settings.py

    def build(self, env: dict[str, Any]) -> FastAPI:
        """Imported here, so one service that does not import fails only its own run."""
        settings = getattr(importlib.import_module(f"services.{self.name}.settings"), self.settings)
        app = importlib.import_module(f"services.{self.name}.app")
        built: FastAPI = app.build_app(settings(**env))
        return built


SERVICES = [
    Service("intake", "IntakeSettings"),
    Service("routing", "RoutingSettings"),
    Service("notify", "NotifySettings"),
    Service("analytics", "AnalyticsSettings"),
]


SETTINGS = settings(
    max_examples=EXAMPLES_PER_MODE,
    derandomize=True,
    database=None,
    deadline=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)


def drawn(strategy: SearchStrategy[Case[Any]]) -> list[Case[Any]]:
    """`EXAMPLES_PER_MODE` cases of the strategy (none if it cannot make any)."""
    cases: list[Case[Any]] = []

    @SETTINGS
    @given(strategy)
    def collect(case: Case[Any]) -> None:
        cases.append(case)

    with contextlib.suppress(Unsatisfiable):  # nothing to make invalid (no parameters)
        collect()
    return cases


def generated(app: FastAPI) -> list[Case[Any]]:
    """Every operation's cases, valid then invalid, the same on every run (derandomized, no
    example database)."""
    schema = schemathesis.openapi.from_dict(app.openapi())
    cases: list[Case[Any]] = []
    for result in schema.get_all_operations():
        if isinstance(result, Err):
            raise result.err()  # the service's own document is not valid OpenAPI
        operation = result.ok()
        if (operation.method.upper(), operation.path) in NOT_FUZZED:
            continue
        cases += drawn(operation.as_strategy(GenerationMode.POSITIVE))
        if can_be_invalid(operation.definition.raw):
            cases += drawn(operation.as_strategy(GenerationMode.NEGATIVE))
    return cases


CONSTRAINTS = {"enum", "const", "pattern", "minLength", "maxLength", "minimum", "maximum"}
CONSTRAINTS |= {"exclusiveMinimum", "exclusiveMaximum", "format", "required"}


def constrained(schema: Any) -> bool:
    """A JSON schema some value breaks (a free string accepts anything)."""
    if isinstance(schema, list):
        return any(constrained(s) for s in schema)
    if not isinstance(schema, dict):
        return False
    if CONSTRAINTS & schema.keys() or schema.get("type") not in (None, "string", "null"):
        return True
    return any(constrained(v) for k, v in schema.items() if k in ("anyOf", "allOf", "oneOf"))


def can_be_invalid(operation: dict[str, Any]) -> bool:
    """Invalid requests exist: a body, a required parameter, or a constrained one. (For the
    others schemathesis searches long for an invalid case and finds none.)"""
    params = operation.get("parameters", [])
    return "requestBody" in operation or any(
        (p.get("required") and p.get("in") != "path") or constrained(p.get("schema"))
        for p in params
    )


def request_of(case: Case[Any]) -> dict[str, Any]:
    """The case as arguments of an httpx request (schemathesis speaks `requests`)."""
    kwargs = case.as_transport_kwargs(base_url="http://test")
    out: dict[str, Any] = {k: kwargs[k] for k in ("method", "url", "params") if k in kwargs}
    headers = dict(kwargs.get("headers") or {})
    if kwargs.get("cookies"):
        headers["cookie"] = "; ".join(f"{k}={v}" for k, v in kwargs["cookies"].items())
    out["headers"] = headers
    if "json" in kwargs:
        out["json"] = kwargs["json"]
    data = kwargs.get("data")
    if isinstance(data, str | bytes):
        out["content"] = data
    elif data is not None:
        out["data"] = data
    if kwargs.get("files"):
        out["files"] = kwargs["files"]
    return out


async def with_catalogue(app: FastAPI, prefix: str, client: httpx.AsyncClient) -> None:
    """Routing's catalogue, as it would arrive in a running system (else intake rightly
    answers 503 until it does)."""
    event = catalog_event(1, "Department of Transport")
    await app.state.runtime.broker.publish(
        encode(event), prefix + event.type, key=event.subject.encode()
    )
    if "/api/v1/reports" in app.openapi()["paths"]:

        async def has_catalogue() -> bool:
            return (await client.get("/api/v1/categories")).status_code == 200

        await eventually(has_catalogue, what="the catalogue in intake")


async def server_errors(client: httpx.AsyncClient, cases: list[Case[Any]]) -> list[str]:
    found = []
    for case in cases:
        try:
            request = client.build_request(**request_of(case))
        except (TypeError, ValueError, AttributeError):
            continue  # a body httpx cannot encode (e.g. a number as a multipart part): not sent
        try:
            response = await client.send(request)
        except Exception as exc:  # an exception out of the app is a 500 for its caller
            found.append(f"{case.method} {case.formatted_path}: raised {exc!r}\n{case}")
            continue
        if response.status_code >= 500:
            found.append(
                f"{response.status_code} {case.method} {case.formatted_path} "
                f"{response.text[:300]}\n  {case.as_curl_command()}"
            )
    return found


@pytest.mark.parametrize("service", SERVICES, ids=lambda s: s.name)
async def test_no_generated_request_gets_a_server_error(
    service: Service, env: dict[str, str]
) -> None:
    app = service.build({**env, "mongodb_db": unique(f"fuzz_{service.name}_")})
    cases = generated(app)
    async with serving(app) as client:
        await wait_ready(client)
        await with_catalogue(app, env["kafka_topic_prefix"], client)
        found = await server_errors(client, cases)
    assert not found, f"{len(found)} of {len(cases)} requests got a 5xx:\n" + "\n".join(found)
