"""The edge every service shares: body caps before parsing and authentication, security
headers, bounded metric labels (OWASP API review, issue 12: findings 8, 9, 17)."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
import yaml
from fastapi import Depends, FastAPI, Request
from fastapi.testclient import TestClient

from shared.edge import BodyLimit
from shared.errors import Unauthorized
from shared.http import create_app
from shared.images import PixelBudget
from shared.runtime import Runtime
from shared.settings import ServiceSettings

ROOT = Path(__file__).resolve().parents[2]


def _deny(request: Request) -> None:
    raise Unauthorized("bearer token required")


@pytest.fixture
def client() -> TestClient:
    settings = ServiceSettings(service_name="edge-test", http_body_max_bytes=2048)
    app: FastAPI = create_app(
        Runtime(settings, {}),
        title="t",
        description="t",
        body_limits=[BodyLimit("POST", r"/upload$", 10_000)],
    )

    @app.post("/login", dependencies=[Depends(_deny)])
    async def login(request: Request) -> dict[str, int]:
        return {"read": len(await request.body())}

    @app.post("/upload")
    async def upload(request: Request) -> dict[str, int]:
        return {"read": len(await request.body())}

    return TestClient(app)  # no lifespan: nothing connects


def test_a_body_over_the_cap_is_refused_before_the_credential_check(client: TestClient) -> None:
    answer = client.post("/login", content=b"x" * 5000)
    assert (answer.status_code, answer.json()["error"]["code"]) == (413, "payload_too_large")


def test_a_streamed_body_without_length_is_cut_at_the_cap(client: TestClient) -> None:
    chunks = (b"x" * 1024 for _ in range(12))  # chunked: no Content-Length to refuse early
    assert client.post("/upload", content=chunks).status_code == 413


def test_an_upload_route_has_its_own_larger_cap(client: TestClient) -> None:
    assert client.post("/upload", content=b"x" * 9000).json() == {"read": 9000}
    assert client.post("/upload", content=b"x" * 11_000).status_code == 413


def test_a_small_body_still_reaches_the_credential_check(client: TestClient) -> None:
    assert client.post("/login", content=b"user=a").status_code == 401


def test_every_response_carries_the_security_headers_and_no_server_banner(
    client: TestClient,
) -> None:
    headers = client.get("/health/live").headers
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert "server" not in headers


def test_invented_http_methods_collapse_into_one_metric_label(client: TestClient) -> None:
    for method in ("FOO", "BAR", "BAZ"):
        client.request(method, "/health/live")
    metrics = client.get("/metrics").text
    assert 'method="other"' in metrics
    assert 'method="FOO"' not in metrics


def test_compose_publishes_monitoring_on_loopback_only_without_the_lifecycle_api() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
    for name in ("prometheus", "grafana"):
        assert all(str(p).startswith("127.0.0.1:") for p in compose[name]["ports"]), name
    assert "--web.enable-lifecycle" not in compose["prometheus"]["command"]


def test_a_decode_waits_while_the_pixel_budget_is_taken() -> None:
    budget = PixelBudget(100)
    second_done = threading.Event()

    def second() -> None:
        with budget.hold(80):
            second_done.set()

    with budget.hold(80):
        waiter = threading.Thread(target=second)
        waiter.start()
        blocked = not second_done.wait(0.2)  # bounded wait: it must NOT get in meanwhile
    waiter.join(5)
    assert (blocked, second_done.is_set(), budget.in_flight) == (True, True, 0)


def test_one_image_alone_may_use_the_whole_budget() -> None:
    budget = PixelBudget(100)
    with budget.hold(150):
        assert budget.in_flight == 150
