"""Logins (`accounts`): username as `_id`, argon2 hash, scopes, agency, demo flag."""

from __future__ import annotations

from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase

from services.routing.domain.accounts import Account
from shared.mongo import Document

ACCOUNTS = "accounts"


def _doc(account: Account, password_hash: str) -> Document:
    return {
        "_id": account.username,
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
    ) -> tuple[Account, str] | None:
        """The account and its password hash."""
        doc = await self.accounts.find_one({"_id": username}, session=session)
        return (_account(doc), str(doc["password_hash"])) if doc else None

    async def add_if_absent(
        self, account: Account, password_hash: str, session: AsyncClientSession | None = None
    ) -> None:
        doc = _doc(account, password_hash)
        await self.accounts.update_one(
            {"_id": account.username}, {"$setOnInsert": doc}, upsert=True, session=session
        )

    async def put(
        self, account: Account, password_hash: str, session: AsyncClientSession | None = None
    ) -> None:
        await self.accounts.replace_one(
            {"_id": account.username}, _doc(account, password_hash), upsert=True, session=session
        )

    async def delete(self, username: str, session: AsyncClientSession | None = None) -> bool:
        res = await self.accounts.delete_one({"_id": username}, session=session)
        return res.deleted_count == 1

    async def all(self, session: AsyncClientSession | None = None) -> list[Account]:
        """Every account by username, never its hash."""
        cursor = self.accounts.find({}, {"password_hash": 0}, session=session).sort("_id", 1)
        return [_account(d) async for d in cursor]

    async def usernames(self, session: AsyncClientSession | None = None) -> set[str]:
        return {d["_id"] async for d in self.accounts.find({}, {"_id": 1}, session=session)}
