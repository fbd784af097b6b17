"""Logins: the OAuth2 password check, demo and bootstrap accounts, accounts made by admins."""

from __future__ import annotations

import asyncio
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
from services.routing.domain.errors import InvalidCredentials, NoSuchAccount
from services.routing.domain.jurisdiction import Jurisdiction
from services.routing.usecases.ports import AccountStore
from services.routing.usecases.workflow import Jurisdictions
from shared.auth import Principal


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
        hasher: Hasher | None = None,
    ) -> None:
        self.store = store
        self.jurisdictions = jurisdictions
        self.demo_logins = demo_logins
        self.hasher = hasher or Argon2Hasher()
        # Verified against when the username is unknown, so both cases cost the same time.
        self._dummy_hash = self.hasher.hash("not-a-real-password")

    async def authenticate(self, username: str, password: str) -> Principal:
        """The principal of a valid login; `InvalidCredentials` otherwise (demo accounts too,
        outside development)."""
        found = await self.store.login(username)
        digest = found[1] if found else self._dummy_hash
        ok = await asyncio.to_thread(self.hasher.verify, digest, password)
        if not ok or found is None or (found[0].demo and not self.demo_logins):
            raise InvalidCredentials()
        account = found[0]
        return Principal(sub=account.username, scopes=account.scopes, agency_id=account.agency_id)

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
        """Admin: creates or replaces a real login; staff accounts must name an existing
        agency (`AccountRefused` otherwise)."""
        agencies = {a.id for a in self.jurisdictions.current().agencies}
        await self._put(Account(username, scopes, agency_id), password, agencies)

    async def bootstrap_admin(self, username: str, password: str) -> None:
        """The deployment's first admin, from the environment; its password is reset each start."""
        await self._put(Account(username, [ADMIN, OPERATOR], None), password, set())

    async def _put(self, account: Account, password: str, agencies: set[str]) -> None:
        check_account(account, password, agencies)
        digest = await asyncio.to_thread(self.hasher.hash, password)
        await self.store.put(account, digest)

    async def all(self) -> list[Account]:
        """Every login (never its password hash)."""
        return await self.store.all()

    async def delete(self, username: str) -> None:
        """Removes a login; tokens already issued stay valid until they expire."""
        if not await self.store.delete(username):
            raise NoSuchAccount(username)
