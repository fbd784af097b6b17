"""Logins (`accounts`): username as `_id`, argon2 hash, scopes, agency, demo flag, and the token
version with the time of the last change (`changed_at`, indexed: the revocation feed).

A deleted login stays as a tombstone (no hash, `deleted: true`) with its version raised, so the
change reaches every replica's revocations through the same `changed_at` query.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from pymongo import IndexModel, ReturnDocument
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase

from services.routing.domain.accounts import Account, Credentials
from shared.mongo import Document

ACCOUNTS = "accounts"
ACCOUNT_INDEXES: dict[str, Sequence[IndexModel]] = {
    ACCOUNTS: [IndexModel("changed_at", name="accounts_changed")],
}


def _fields(account: Account, password_hash: str) -> Document:
    return {
        "password_hash": password_hash,
        "scopes": account.scopes,
        "agency_id": account.agency_id,
        "demo": account.demo,
    }


def _account(doc: Document) -> Account:
    return Account(
        username=doc["_id"],
        scopes=list(doc["scopes"]),
        agency_id=doc.get("agency_id"),
        demo=bool(doc.get("demo")),
    )


class AccountStore:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.accounts = db[ACCOUNTS]

    async def login(
        self, username: str, session: AsyncClientSession | None = None
    ) -> Credentials | None:
        """The account, its password hash and token version (None when absent or deleted)."""
        doc = await self.accounts.find_one({"_id": username}, session=session)
        if not doc or doc.get("deleted"):
            return None
        version = int(doc.get("token_version", 0))
        return Credentials(_account(doc), str(doc["password_hash"]), version)

    async def add_if_absent(
        self, account: Account, password_hash: str, session: AsyncClientSession | None = None
    ) -> None:
        """A new login (version 0); an existing one, or the tombstone of a deleted one, stays."""
        doc = {"_id": account.username, **_fields(account, password_hash), "token_version": 0}
        await self.accounts.update_one(
            {"_id": account.username}, {"$setOnInsert": doc}, upsert=True, session=session
        )

    async def put(
        self,
        account: Account,
        password_hash: str,
        changed_at: datetime,
        session: AsyncClientSession | None = None,
    ) -> int:
        """Creates or replaces the login, raising its token version; returns the new version."""
        doc = await self.accounts.find_one_and_update(
            {"_id": account.username},
            {
                "$set": {**_fields(account, password_hash), "changed_at": changed_at},
                "$unset": {"deleted": ""},
                "$inc": {"token_version": 1},
            },
            upsert=True,
            return_document=ReturnDocument.AFTER,
            session=session,
        )
        assert doc is not None  # upserted
        return int(doc["token_version"])

    async def delete(
        self, username: str, changed_at: datetime, session: AsyncClientSession | None = None
    ) -> int | None:
        """Leaves a tombstone with the version raised; returns it (None: no such login)."""
        doc = await self.accounts.find_one_and_update(
            {"_id": username, "deleted": {"$ne": True}},
            {
                "$set": {"deleted": True, "changed_at": changed_at},
                "$unset": {"password_hash": "", "scopes": "", "agency_id": ""},
                "$inc": {"token_version": 1},
            },
            return_document=ReturnDocument.AFTER,
            session=session,
        )
        return int(doc["token_version"]) if doc else None

    async def changed_since(
        self, since: datetime, session: AsyncClientSession | None = None
    ) -> list[tuple[str, int]]:
        """(username, token version) of the logins changed at or after `since` (indexed)."""
        cursor = self.accounts.find(
            {"changed_at": {"$gte": since}}, {"token_version": 1}, session=session
        )
        return [(d["_id"], int(d.get("token_version", 0))) async for d in cursor]

    async def all(self, session: AsyncClientSession | None = None) -> list[Account]:
        """Every live account by username, never its hash."""
        cursor = self.accounts.find({}, {"password_hash": 0}, session=session).sort("_id", 1)
        return [_account(d) async for d in cursor if not d.get("deleted")]

    async def usernames(self, session: AsyncClientSession | None = None) -> set[str]:
        """Every username taken, deleted ones included (a deleted demo login stays deleted)."""
        return {d["_id"] async for d in self.accounts.find({}, {"_id": 1}, session=session)}
