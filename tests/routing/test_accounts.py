"""Logins of a real deployment: the bootstrap admin from the environment, accounts made by admins."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from services.routing.app import build_app
from services.routing.settings import RoutingSettings
from tests.conftest import Infra
from tests.routing.conftest import bearer
from tests.support import eventually, serving, unique, wait_ready

ADMIN_PASSWORD = "Hue-river 2026 perfume!"
STAFF = {"password": "staff-password-123", "scopes": ["staff"], "agency_id": "phu-hoi-ward"}


@pytest.fixture(scope="module")
async def prod(infra: Infra) -> AsyncIterator[httpx.AsyncClient]:
    settings = RoutingSettings(
        environment="production",
        jwt_secret="k3Vq9-Zr2xLpT7wNc4Ey8uHb1GmSd6Jo",
        bootstrap_admin_password=ADMIN_PASSWORD,
        kafka_bootstrap_servers=infra.kafka,
        kafka_topic_prefix=unique("acct") + ".",
        mongodb_uri=infra.mongodb_uri,
        mongodb_db=unique("routing_"),
    )
    async with serving(build_app(settings)) as client:
        await wait_ready(client)
        yield client


async def _login(client: httpx.AsyncClient, username: str, password: str) -> httpx.Response:
    return await client.post(
        "/api/v1/auth/token", data={"username": username, "password": password}
    )


async def _admin(client: httpx.AsyncClient) -> dict[str, str]:
    async def logged_in() -> httpx.Response | None:
        r = await _login(client, "admin", ADMIN_PASSWORD)
        return r if r.status_code == 200 else None  # the bootstrap runs once the seed is stored

    r = await eventually(logged_in, what="bootstrap admin can log in")
    return bearer(r.json()["access_token"])


async def test_bootstrap_admin_logs_in_with_the_password_from_the_environment(
    prod: httpx.AsyncClient,
) -> None:
    headers = await _admin(prod)
    listed = await prod.get("/api/v1/admin/accounts", headers=headers)
    assert {
        "username": "admin",
        "scopes": ["admin", "operator"],
        "agency_id": None,
        "demo": False,
    } in listed.json()["items"]


async def test_demo_logins_are_refused_in_production(prod: httpx.AsyncClient) -> None:
    assert (await _login(prod, "phu-hoi-ward", "demo")).status_code == 401


async def test_admin_creates_a_staff_login_bound_to_its_agency(prod: httpx.AsyncClient) -> None:
    headers = await _admin(prod)
    put = await prod.put("/api/v1/admin/accounts/lan.nguyen", json=STAFF, headers=headers)
    assert put.status_code == 204
    r = await _login(prod, "lan.nguyen", STAFF["password"])  # type: ignore[arg-type]
    assert r.status_code == 200
    assert r.json()["scope"] == "staff"


async def test_short_password_and_staff_without_agency_are_refused(
    prod: httpx.AsyncClient,
) -> None:
    headers = await _admin(prod)
    short = await prod.put(
        "/api/v1/admin/accounts/x1", json={**STAFF, "password": "short"}, headers=headers
    )
    unbound = await prod.put(
        "/api/v1/admin/accounts/x2", json={**STAFF, "agency_id": None}, headers=headers
    )
    unknown = await prod.put(
        "/api/v1/admin/accounts/x3", json={**STAFF, "agency_id": "nowhere"}, headers=headers
    )
    assert [r.status_code for r in (short, unbound, unknown)] == [422, 422, 422]
    assert short.json()["error"]["code"] == "invalid_account"


async def test_deleted_login_can_no_longer_log_in(prod: httpx.AsyncClient) -> None:
    headers = await _admin(prod)
    await prod.put("/api/v1/admin/accounts/temp.staff", json=STAFF, headers=headers)
    assert (
        await prod.delete("/api/v1/admin/accounts/temp.staff", headers=headers)
    ).status_code == 204
    assert (await _login(prod, "temp.staff", STAFF["password"])).status_code == 401  # type: ignore[arg-type]


async def test_staff_cannot_manage_logins(prod: httpx.AsyncClient) -> None:
    headers = await _admin(prod)
    await prod.put("/api/v1/admin/accounts/staff.b", json=STAFF, headers=headers)
    staff = await _login(prod, "staff.b", STAFF["password"])  # type: ignore[arg-type]
    denied = await prod.get("/api/v1/admin/accounts", headers=bearer(staff.json()["access_token"]))
    assert denied.status_code == 403
