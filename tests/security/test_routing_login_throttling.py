"""Finding 5 (issue 12): logins are throttled per account and per client address, with backoff
(429 + Retry-After), on every replica alike (the failures are in routing's database), and a
throttled attempt runs no password check."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.conftest import Infra
from tests.security.routing_replicas import (
    ADMIN_PASSWORD,
    STAFF_PASSWORD,
    Replica,
    admin_headers,
    login,
    replicas,
)
from tests.support import unique

STAFF = {"password": STAFF_PASSWORD, "scopes": ["operator"], "agency_id": None}


@pytest.fixture(scope="module")
async def pair(infra: Infra) -> AsyncIterator[list[Replica]]:
    # A first lock of 30 s: what is measured here does not depend on how fast the machine is.
    async with replicas(infra, 2, login_backoff_base_s=30) as started:
        async with started[0].client() as client:
            await admin_headers(client)  # the bootstrap admin is made
        yield started


class CountingHasher:
    def __init__(self, inner: object) -> None:
        self.inner, self.checks = inner, 0

    def hash(self, password: str) -> str:
        return self.inner.hash(password)  # type: ignore[attr-defined,no-any-return]

    def verify(self, digest: str, password: str) -> bool:
        self.checks += 1
        return self.inner.verify(digest, password)  # type: ignore[attr-defined,no-any-return]


async def _account(replica: Replica) -> str:
    username = unique("op.")
    async with replica.client() as client:
        admin = await admin_headers(client)
        await client.put(f"/api/v1/admin/accounts/{username}", json=STAFF, headers=admin)
    return username


async def test_twenty_wrong_passwords_are_throttled_with_retry_after(pair: list[Replica]) -> None:
    username = await _account(pair[0])
    async with pair[0].client(unique("10.1.")) as client:
        answers = [await login(client, username, f"guess-{i}") for i in range(20)]
    statuses = [a.status_code for a in answers]
    assert statuses == [401] * 5 + [429] * 15
    assert 29 <= int(answers[5].headers["Retry-After"]) <= 30
    assert answers[5].json()["error"]["code"] == "too_many_failed_logins"


async def test_a_locked_account_is_locked_on_the_other_replica_too(pair: list[Replica]) -> None:
    username = await _account(pair[0])
    async with pair[0].client("10.2.0.1") as first, pair[1].client("10.2.0.2") as second:
        for i in range(5):
            await login(first, username, f"guess-{i}")
        answer = await login(second, username, STAFF_PASSWORD)
    assert answer.status_code == 429


async def test_a_throttled_attempt_runs_no_password_check(pair: list[Replica]) -> None:
    username = await _account(pair[0])
    accounts = pair[0].api.accounts
    counting = CountingHasher(accounts.hasher)
    accounts.hasher = counting
    try:
        async with pair[0].client("10.3.0.1") as client:
            for i in range(30):
                await login(client, username, f"guess-{i}")
    finally:
        accounts.hasher = counting.inner  # type: ignore[assignment]
    assert counting.checks == 5  # 5 free failures lock the account; 25 attempts check nothing


async def test_a_client_guessing_at_many_accounts_is_throttled(pair: list[Replica]) -> None:
    async with pair[0].client("10.4.0.1") as client:
        statuses = [(await login(client, unique("u"), "guess")).status_code for _ in range(22)]
    assert statuses == [401] * 20 + [429] * 2


async def test_other_clients_still_log_in_while_one_is_throttled(pair: list[Replica]) -> None:
    async with pair[0].client("10.5.0.1") as attacker, pair[0].client("10.5.0.2") as admin:
        for _ in range(22):
            await login(attacker, unique("u"), "guess")
        assert (await login(admin, "admin", ADMIN_PASSWORD)).status_code == 200
