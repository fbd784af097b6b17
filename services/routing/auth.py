"""Staff accounts (argon2 hashes) and the OAuth2 password flow that issues JWTs."""

from __future__ import annotations

import asyncio

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from services.routing.domain.jurisdiction import Jurisdiction
from services.routing.store import RoutingStore
from shared.auth import Principal
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
