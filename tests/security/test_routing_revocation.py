"""Finding 4 (issue 12): a token ends with its account. Deleting a login, changing its scopes
or its password refuses the tokens issued before, at once on the replica that made the change
and within TOKEN_REVOCATION_REFRESH_S on the others; a new token works."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from tests.conftest import Infra
from tests.security.routing_replicas import (
    STAFF_PASSWORD,
    Replica,
    admin_headers,
    bearer,
    login,
    replicas,
)
from tests.support import eventually, unique

STAFF = {"password": STAFF_PASSWORD, "scopes": ["staff"], "agency_id": "phu-hoi-ward"}


@pytest.fixture(scope="module")
async def pair(infra: Infra) -> AsyncIterator[list[Replica]]:
    async with replicas(infra, 2, token_revocation_refresh_s=0.5) as started:
        yield started


async def _staff_token(client: httpx.AsyncClient, admin: dict[str, str]) -> tuple[str, str]:
    username = unique("staff.")
    put = await client.put(f"/api/v1/admin/accounts/{username}", json=STAFF, headers=admin)
    assert put.status_code == 204, put.text
    r = await login(client, username, STAFF_PASSWORD)
    return username, r.json()["access_token"]


async def _queue(client: httpx.AsyncClient, token: str) -> httpx.Response:
    return await client.get("/api/v1/assignments", headers=bearer(token))


async def test_a_deleted_logins_token_is_refused_at_once(pair: list[Replica]) -> None:
    async with pair[0].client() as client:
        admin = await admin_headers(client)
        username, token = await _staff_token(client, admin)
        assert (await _queue(client, token)).status_code == 200
        await client.delete(f"/api/v1/admin/accounts/{username}", headers=admin)
        refused = await _queue(client, token)
    assert (refused.status_code, refused.json()["error"]["code"]) == (401, "token_revoked")


async def test_a_demoted_logins_token_is_refused(pair: list[Replica]) -> None:
    async with pair[0].client() as client:
        admin = await admin_headers(client)
        username, token = await _staff_token(client, admin)
        other = {**STAFF, "agency_id": "vinh-ninh-ward"}
        await client.put(f"/api/v1/admin/accounts/{username}", json=other, headers=admin)
        assert (await _queue(client, token)).status_code == 401


async def test_after_a_password_change_only_the_new_token_works(pair: list[Replica]) -> None:
    async with pair[0].client() as client:
        admin = await admin_headers(client)
        username, old = await _staff_token(client, admin)
        changed = {**STAFF, "password": "another-password-456"}
        await client.put(f"/api/v1/admin/accounts/{username}", json=changed, headers=admin)
        new = (await login(client, username, "another-password-456")).json()["access_token"]
        statuses = [(await _queue(client, t)).status_code for t in (old, new)]
    assert statuses == [401, 200]


async def test_another_replica_refuses_the_token_within_its_refresh(pair: list[Replica]) -> None:
    async with pair[0].client() as first, pair[1].client() as second:
        admin = await admin_headers(first)
        username, token = await _staff_token(first, admin)
        assert (await _queue(second, token)).status_code == 200
        await first.delete(f"/api/v1/admin/accounts/{username}", headers=admin)

        async def refused() -> bool:
            return (await _queue(second, token)).status_code == 401

        await eventually(refused, timeout=5, what="the other replica refuses the token")
