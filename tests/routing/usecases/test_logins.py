"""Login throttling over fakes: per account and per client, with backoff, no password check
while locked (the fakes' policy: 3 free failures per account, 10 per client)."""

from __future__ import annotations

import pytest

from services.routing.domain.errors import InvalidCredentials, LoginThrottled
from services.routing.domain.logins import Backoff
from tests.routing.fakes import PlainHasher, Routing

PASSWORD = "a-long-password"


class CountingHasher(PlainHasher):
    def __init__(self) -> None:
        self.checks = 0

    def verify(self, digest: str, password: str) -> bool:
        self.checks += 1
        return super().verify(digest, password)


async def _fail(r: Routing, username: str, times: int, client: str = "198.51.100.1") -> None:
    for _ in range(times):
        with pytest.raises(InvalidCredentials):
            await r.accounts.authenticate(username, "wrong", client)


async def _routing_with_lan() -> Routing:
    r = Routing()
    await r.accounts.put("lan", PASSWORD, ["operator"], None)
    return r


def test_backoff_doubles_after_the_free_failures_up_to_its_cap() -> None:
    b = Backoff(free=2, base_s=1, max_s=5)
    assert [b.lock_after(n).total_seconds() for n in range(1, 7)] == [0, 1, 2, 4, 5, 5]


async def test_an_account_is_locked_after_its_free_failures() -> None:
    r = await _routing_with_lan()
    await _fail(r, "lan", 3)
    with pytest.raises(LoginThrottled) as refused:
        await r.accounts.authenticate("lan", PASSWORD, "198.51.100.2")
    assert refused.value.retry_after_s == 1


async def test_a_locked_attempt_checks_no_password() -> None:
    r = await _routing_with_lan()
    r.accounts.hasher = hasher = CountingHasher()
    await _fail(r, "lan", 3)
    with pytest.raises(LoginThrottled):
        await r.accounts.authenticate("lan", "wrong", "198.51.100.1")
    assert hasher.checks == 3


async def test_the_lock_lifts_after_its_wait() -> None:
    r = await _routing_with_lan()
    await _fail(r, "lan", 3)
    r.clock.advance(seconds=1)
    assert (await r.accounts.authenticate("lan", PASSWORD, "198.51.100.1")).sub == "lan"


async def test_each_further_failure_doubles_the_wait() -> None:
    r = await _routing_with_lan()
    await _fail(r, "lan", 3)
    r.clock.advance(seconds=1)
    await _fail(r, "lan", 1)
    with pytest.raises(LoginThrottled) as refused:
        await r.accounts.authenticate("lan", PASSWORD, "198.51.100.1")
    assert refused.value.retry_after_s == 2


async def test_a_good_login_forgets_the_accounts_failures() -> None:
    r = await _routing_with_lan()
    await _fail(r, "lan", 2)
    await r.accounts.authenticate("lan", PASSWORD, "198.51.100.1")
    await _fail(r, "lan", 2)
    assert (await r.accounts.authenticate("lan", PASSWORD, "198.51.100.1")).sub == "lan"


async def test_failures_are_forgotten_after_the_window() -> None:
    r = await _routing_with_lan()
    await _fail(r, "lan", 2)
    r.clock.advance(seconds=901)
    await _fail(r, "lan", 2)
    assert (await r.accounts.authenticate("lan", PASSWORD, "198.51.100.1")).sub == "lan"


async def test_a_client_guessing_many_usernames_is_locked() -> None:
    r = await _routing_with_lan()
    for i in range(10):
        await _fail(r, f"user{i}", 1, client="192.0.2.9")
    with pytest.raises(LoginThrottled):
        await r.accounts.authenticate("lan", PASSWORD, "192.0.2.9")
    assert (await r.accounts.authenticate("lan", PASSWORD, "192.0.2.10")).sub == "lan"


async def test_unknown_usernames_lock_like_real_ones() -> None:
    r = Routing()
    await _fail(r, "ghost", 3)
    with pytest.raises(LoginThrottled):
        await r.accounts.authenticate("ghost", "wrong", "198.51.100.3")
