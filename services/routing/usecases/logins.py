"""Login throttling, per account and per client, shared by the replicas through the database.

A locked key is refused before any password check, so a flood of guesses costs one indexed read
each and no argon2 work; the checks that do run are bounded per process (`max_concurrent` at a
time, `max_waiting` queued; beyond that, refused at once).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from services.routing.domain.errors import LoginBusy, LoginThrottled
from services.routing.domain.logins import LoginPolicy, account_key, client_key, wait_seconds
from services.routing.usecases.ports import LoginFailureStore
from services.routing.usecases.workflow import Clock


@dataclass(frozen=True)
class Attempt:
    account: str  # the keys of this attempt
    client: str
    on_record: frozenset[str]  # keys with failures already stored


class LoginThrottle:
    def __init__(
        self,
        store: LoginFailureStore,
        policy: LoginPolicy,
        clock: Clock,
        *,
        max_concurrent: int = 2,
        max_waiting: int = 16,
    ) -> None:
        self.store = store
        self.policy = policy
        self.clock = clock
        self._slots = asyncio.Semaphore(max_concurrent)
        self._max_waiting = max_concurrent + max_waiting
        self._in_flight = 0

    async def begin(self, username: str, client: str) -> Attempt:
        """`LoginThrottled` (with the wait) while the account or the client is locked."""
        keys = (account_key(username), client_key(client))
        now = self.clock()
        locked, on_record = await self.store.locked_until(keys, now)
        if locked is not None:
            raise LoginThrottled(wait_seconds(locked, now))
        return Attempt(keys[0], keys[1], frozenset(on_record))

    @asynccontextmanager
    async def checking(self) -> AsyncIterator[None]:
        """A slot for one password check (`LoginBusy` when too many wait already)."""
        if self._in_flight >= self._max_waiting:
            raise LoginBusy()
        self._in_flight += 1
        try:
            async with self._slots:
                yield
        finally:
            self._in_flight -= 1

    async def failed(self, attempt: Attempt) -> None:
        """Counts the failure on both keys and locks each one past its free failures."""
        now = self.clock()
        for key, backoff in (
            (attempt.account, self.policy.per_account),
            (attempt.client, self.policy.per_client),
        ):
            failures = await self.store.failed(key, now, backoff.forgotten_at(now))
            lock = backoff.lock_after(failures)
            if lock:
                await self.store.lock(key, now + lock)

    async def succeeded(self, attempt: Attempt) -> None:
        """The account's failures are forgotten; the client's are not (one good login of an
        attacker's own must not reset its guesses at other accounts)."""
        if attempt.account in attempt.on_record:
            await self.store.clear(attempt.account)
