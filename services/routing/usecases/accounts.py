"""Logins: the OAuth2 password check (throttled), demo and bootstrap accounts, accounts made by
admins; every change of an account revokes the tokens issued before it, here and (through an
`auth.account_changed` event emitted in the change's transaction) in notify and intake."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime
from typing import Protocol

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from services.routing.domain.accounts import (
    ADMIN,
    DEMO_PASSWORD,
    OPERATOR,
    Account,
    check_account,
    demo_accounts,
)
from services.routing.domain.errors import InvalidCredentials, LoginsNotOpen, NoSuchAccount
from services.routing.domain.jurisdiction import Jurisdiction
from services.routing.usecases.logins import LoginThrottle
from services.routing.usecases.ports import AccountStore
from services.routing.usecases.workflow import Clock, Jurisdictions
from shared.auth import Principal
from shared.events import AccountChangedV1, Topic
from shared.uow import Transactions, UnitOfWork


class Hasher(Protocol):
    def hash(self, password: str) -> str: ...

    def verify(self, digest: str, password: str) -> bool: ...


class Argon2Hasher:
    """argon2id; slow on purpose, so callers run it in a thread."""

    def __init__(self) -> None:
        self._hasher = PasswordHasher()

    def hash(self, password: str) -> str:
        return self._hasher.hash(password)

    def verify(self, digest: str, password: str) -> bool:
        try:
            return self._hasher.verify(digest, password)
        except (VerificationError, InvalidHashError):
            return False


class Accounts:
    def __init__(
        self,
        store: AccountStore,
        jurisdictions: Jurisdictions,
        *,
        demo_logins: bool,
        throttle: LoginThrottle,
        clock: Clock,
        transactions: Transactions,
        revoked: Callable[[str, int], None] = lambda username, version: None,
        hasher: Hasher | None = None,
    ) -> None:
        self.store = store
        self.jurisdictions = jurisdictions
        self.demo_logins = demo_logins
        self.throttle = throttle
        self.clock = clock
        self.transactions = transactions
        self.revoked = revoked  # told each change made here (`shared.auth.Revocations.note`)
        self.hasher = hasher or Argon2Hasher()
        # Set once the start's logins (demo, bootstrap admin) are made: a login tried before
        # is "starting" (503), not a failure counted against the account.
        self.open = asyncio.Event()
        # Verified against when the username is unknown, so both cases cost the same time.
        self._dummy_hash = self.hasher.hash("not-a-real-password")

    async def authenticate(self, username: str, password: str, client: str) -> Principal:
        """The principal of a valid login; `InvalidCredentials` otherwise (demo accounts too,
        outside development); `LoginThrottled` while the account or the client is locked
        after failures (unknown usernames count too: a lock must not tell which exist)."""
        if not self.open.is_set():
            raise LoginsNotOpen()
        attempt = await self.throttle.begin(username, client)
        found = await self.store.login(username)
        digest = found.password_hash if found else self._dummy_hash
        async with self.throttle.checking():
            ok = await asyncio.to_thread(self.hasher.verify, digest, password)
        if not ok or found is None or (found.account.demo and not self.demo_logins):
            await self.throttle.failed(attempt)
            raise InvalidCredentials()
        await self.throttle.succeeded(attempt)
        account = found.account
        return Principal(
            sub=account.username,
            scopes=account.scopes,
            agency_id=account.agency_id,
            token_version=found.token_version,
        )

    async def _verify(self, digest: str, password: str) -> bool:
        return await asyncio.to_thread(self.hasher.verify, digest, password)

    async def seed_demo(self, j: Jurisdiction) -> None:
        """Development only: `demo_accounts` with password `demo`; existing ones are left as
        they are (the same runs again after an admin change, for new agencies)."""
        if not self.demo_logins:
            return
        existing = await self.store.usernames()
        missing = [a for a in demo_accounts(j) if a.username not in existing]
        if not missing:
            return
        # One hash for all: the password is public anyway, and each hash costs ~0.1 s of CPU.
        digest = await asyncio.to_thread(self.hasher.hash, DEMO_PASSWORD)
        for account in missing:
            await self.store.add_if_absent(account, digest)

    async def put(
        self, username: str, password: str, scopes: list[str], agency_id: str | None
    ) -> None:
        """Admin: creates or replaces a real login (the tokens issued before are refused from
        now on); staff accounts must name an existing agency (`AccountRefused` otherwise)."""
        agencies = {a.id for a in self.jurisdictions.current().agencies}
        await self._put(Account(username, scopes, agency_id), password, agencies)

    async def bootstrap_admin(self, username: str, password: str) -> None:
        """The deployment's first admin, from the environment: created, or reset when its
        password or scopes differ (an unchanged one is left alone, so that a restart does not
        revoke the admin's tokens)."""
        account = Account(username, [ADMIN, OPERATOR], None)
        found = await self.store.login(username)
        unchanged = found is not None and found.account == account
        if unchanged and found and await self._verify(found.password_hash, password):
            return
        await self._put(account, password, set())

    async def _put(self, account: Account, password: str, agencies: set[str]) -> None:
        check_account(account, password, agencies)
        digest = await asyncio.to_thread(self.hasher.hash, password)

        async def work(uow: UnitOfWork) -> int:
            at = self.clock()
            version = await self.store.put(account, digest, at, uow.session)
            await self._announce(uow, account.username, version, at)
            return version

        self.revoked(account.username, await self.transactions.run(work))

    async def _announce(self, uow: UnitOfWork, username: str, version: int, at: datetime) -> None:
        """`auth.account_changed`, the version as sequence (the highest one wins downstream)."""
        changed = AccountChangedV1(username=username, token_version=version, changed_at=at)
        await uow.emit(Topic.ACCOUNT_CHANGED, username, changed, sequence=version)

    async def all(self) -> list[Account]:
        """Every login (never its password hash)."""
        return await self.store.all()

    async def delete(self, username: str) -> None:
        """Removes a login; its tokens are refused from now on (here at once, on the other
        replicas within their revocation refresh)."""

        async def work(uow: UnitOfWork) -> int:
            at = self.clock()
            version = await self.store.delete(username, at, uow.session)
            if version is None:
                raise NoSuchAccount(username)
            await self._announce(uow, username, version, at)
            return version

        self.revoked(username, await self.transactions.run(work))
