"""Staff accounts (argon2 hashes) and the OAuth2 password flow that issues JWTs."""

from __future__ import annotations

import asyncio

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from services.routing.domain.jurisdiction import Jurisdiction
from services.routing.store import RoutingStore
from shared.auth import SCOPES, Principal
from shared.mongo import Document

DEMO_PASSWORD = "demo"
OPERATOR = "operator"
ADMIN = "admin"

_hasher = PasswordHasher()
# Verified against when the username is unknown, so both cases cost the same time.
_DUMMY_HASH = _hasher.hash("not-a-real-password")


def _account(username: str, scopes: list[str], agency_id: str | None) -> Document:
    return {
        "_id": username,
        "password_hash": _hasher.hash(DEMO_PASSWORD),
        "scopes": scopes,
        "agency_id": agency_id,
        "demo": True,
    }


class Accounts:
    def __init__(self, store: RoutingStore, *, demo_logins: bool) -> None:
        self.store = store
        self.demo_logins = demo_logins

    async def seed_demo(self, j: Jurisdiction) -> None:
        """Development only: one staff login per agency (username = agency id), plus operator
        and admin, all with password `demo`. Existing accounts are left untouched."""
        if not self.demo_logins:
            return
        existing = await self.store.account_ids()
        wanted: list[tuple[str, list[str], str | None]] = [
            (a.id, ["staff"], a.id) for a in j.agencies
        ]
        wanted += [(OPERATOR, [OPERATOR], None), (ADMIN, [ADMIN, OPERATOR], None)]
        for username, scopes, agency in wanted:
            if username not in existing:
                doc = await asyncio.to_thread(_account, username, scopes, agency)
                await self.store.add_account_if_absent(doc)

    async def put(
        self,
        username: str,
        password: str,
        scopes: list[str],
        agency_id: str | None,
        agencies: set[str],
    ) -> None:
        """Creates or replaces a real account (argon2 hash); raises `AccountRefused`."""
        check_account(username, password, scopes, agency_id, agencies)
        digest = await asyncio.to_thread(_hasher.hash, password)
        await self.store.put_account(
            {
                "_id": username,
                "password_hash": digest,
                "scopes": scopes,
                "agency_id": agency_id,
                "demo": False,
            }
        )

    async def bootstrap_admin(self, username: str, password: str) -> None:
        """The deployment's first admin, from the environment; its password is reset each start."""
        await self.put(username, password, ["admin", "operator"], None, set())

    async def authenticate(self, username: str, password: str) -> Principal | None:
        doc = await self.store.account(username)
        stored = doc["password_hash"] if doc else _DUMMY_HASH
        try:
            await asyncio.to_thread(_hasher.verify, stored, password)
        except (VerificationError, InvalidHashError):
            return None
        if doc is None or (doc.get("demo") and not self.demo_logins):
            return None  # demo accounts are refused outside development
        return Principal(sub=doc["_id"], scopes=list(doc["scopes"]), agency_id=doc.get("agency_id"))


MIN_PASSWORD = 12


class AccountRefused(ValueError):
    pass


def check_account(
    username: str, password: str, scopes: list[str], agency_id: str | None, agencies: set[str]
) -> None:
    """The rules of a real (non-demo) account; raises `AccountRefused` with the reason."""
    if len(password) < MIN_PASSWORD:
        raise AccountRefused(f"password must have at least {MIN_PASSWORD} characters")
    if not scopes or not set(scopes) <= set(SCOPES):
        raise AccountRefused(f"scopes must be a non-empty subset of {sorted(SCOPES)}")
    if "staff" in scopes and agency_id not in agencies:
        raise AccountRefused("a staff account needs the id of an existing agency")
    if "staff" not in scopes and agency_id is not None:
        raise AccountRefused("only staff accounts are bound to an agency")
    if username in {OPERATOR, ADMIN} | agencies and "staff" in scopes and username != agency_id:
        raise AccountRefused("that username is reserved")
