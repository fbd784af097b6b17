"""Finding 3: every resident and Open311 endpoint is limited per client, keyed on the connection's
address (what uvicorn gives after `TRUSTED_PROXIES`), never on a header the caller picks; the
ingress holds the limits across replicas."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import yaml

from tests.conftest import Infra
from tests.security.intake_stack import Isolated, client, running_intake

ROOT = Path(__file__).resolve().parents[2]
BURST = 2
LIMITS = {
    f"rate_limit_{name}_{part}": value
    for name in ("create", "read", "act", "resident_token")
    for part, value in (("burst", BURST), ("per_minute", 0.01))
}
RID = "r-missing"
ENDPOINTS = [
    ("GET", "/api/v1/categories"),
    ("GET", "/api/v1/reports"),
    ("GET", "/api/v1/reports/nearby?lat=16.46&lon=107.59"),
    ("GET", f"/api/v1/reports/{RID}"),
    ("GET", f"/api/v1/reports/{RID}/timeline"),
    ("GET", "/api/v1/photos/p-missing"),
    ("GET", "/api/v1/photos/p-missing/thumb"),
    ("POST", "/api/v1/reports"),
    ("POST", f"/api/v1/reports/{RID}/rating"),
    ("POST", f"/api/v1/reports/{RID}/reopen"),
    ("POST", f"/api/v1/reports/{RID}/support"),
    ("POST", "/api/v1/residents"),
    ("GET", "/open311/v2/discovery.json"),
    ("GET", "/open311/v2/services.xml"),
    ("GET", "/open311/v2/services/pothole.json"),
    ("GET", "/open311/v2/requests.json"),
    ("GET", f"/open311/v2/requests/{RID}.xml"),
    ("GET", f"/open311/v2/tokens/{RID}.json"),
    ("GET", "/open311/v2/servicerequestupdates.xml"),
    ("POST", "/open311/v2/requests.json"),
]


@pytest.fixture(scope="module")
async def limited(infra: Infra) -> AsyncIterator[Isolated]:
    async with running_intake(infra, "seclimits", **LIMITS) as run:
        yield run


def an_ip() -> str:
    n = uuid.uuid4().int
    return f"10.{n % 250}.{(n >> 8) % 250}.{(n >> 16) % 250}"


@pytest.mark.parametrize(("method", "path"), ENDPOINTS)
async def test_every_endpoint_refuses_a_client_over_its_burst_with_retry_after(
    limited: Isolated, method: str, path: str
) -> None:
    async with client(limited, an_ip()) as http:
        for _ in range(BURST):
            assert (await http.request(method, path, json={})).status_code != 429
        refused = await http.request(method, path, json={})
    assert refused.status_code == 429, refused.text
    assert int(refused.headers["Retry-After"]) >= 1


async def test_rotating_forwarded_and_client_headers_does_not_reset_the_limit(
    limited: Isolated,
) -> None:
    async with client(limited, an_ip()) as http:
        codes = [
            (
                await http.get(
                    "/api/v1/reports",
                    headers={
                        "X-Forwarded-For": f"203.0.113.{i}",
                        "X-Real-IP": f"198.51.100.{i}",
                        "X-Client-Id": f"app-{i}",
                        "User-Agent": f"agent-{i}",
                    },
                )
            ).status_code
            for i in range(BURST + 3)
        ]
    assert codes == [200] * BURST + [429] * 3


async def test_another_client_address_has_its_own_limit(limited: Isolated) -> None:
    async with client(limited, an_ip()) as first, client(limited, an_ip()) as second:
        for _ in range(BURST + 1):
            await first.get("/api/v1/reports")
        assert (await second.get("/api/v1/reports")).status_code == 200


def nginx() -> str:
    return (ROOT / "deploy/compose/nginx.conf").read_text()


def test_the_compose_ingress_limits_intake_per_client_address() -> None:
    conf = nginx()
    assert "limit_req_zone $binary_remote_addr zone=intake_read:" in conf
    assert "default $binary_remote_addr;" in conf  # writes: keyed on the address too
    assert "limit_req_zone $intake_write_client zone=intake_write:" in conf
    assert "limit_req_zone $binary_remote_addr zone=intake_residents:" in conf
    assert "limit_req_status 429;" in conf
    for path in (
        "location ~ ^/api/v1/(reports|photos|categories) {",
        "location = /api/v1/residents {",
        "location /open311/v2/ {",
        "location / {",
    ):
        block = conf[conf.index(path) :]
        assert "limit_req zone=" in block[: block.index("}")], path


def test_the_compose_ingress_sets_the_client_address_and_intake_trusts_only_it() -> None:
    conf = nginx()
    assert "proxy_set_header X-Forwarded-For $remote_addr;" in conf  # replaces, never appends
    compose = yaml.safe_load((ROOT / "deploy/compose/ingress.yml").read_text())
    env = compose["services"]["intake"]["environment"]
    assert env["TRUSTED_PROXIES"]


def test_the_kubernetes_ingress_limits_per_client_and_intake_trusts_the_ingress() -> None:
    docs = list(
        yaml.safe_load_all((ROOT / "deploy/k8s/components/ingress/ingress.yaml").read_text())
    )
    notes = [d["metadata"].get("annotations", {}) for d in docs if d and d["kind"] == "Ingress"]
    intake = [a for a in notes if "nginx.ingress.kubernetes.io/limit-rps" in a]
    assert intake, "no Ingress with limit-rps"
    assert all(int(a["nginx.ingress.kubernetes.io/limit-rps"]) > 0 for a in intake)
    patch = (ROOT / "deploy/k8s/components/ingress/kustomization.yaml").read_text()
    assert "TRUSTED_PROXIES" in patch
