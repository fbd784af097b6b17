"""Failed logins (`login_failures`): one document per throttled key (`account:<username>`,
`client:<address>`), shared by every replica, deleted once forgotten (`LOGIN_EXPIRY`)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from pymongo import ReturnDocument
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase

from shared.mongo import Document
from shared.retention import Expiry

LOGIN_FAILURES = "login_failures"
# A record is deleted once forgotten (reads check `forget_at` themselves: deletion is tidying).
LOGIN_EXPIRY = Expiry(
    LOGIN_FAILURES, "forget_at", timedelta(0), "forget_at", retired_ttl="login_failures_ttl"
)


class LoginFailureStore:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.failures = db[LOGIN_FAILURES]

    async def locked_until(
        self, keys: Sequence[str], now: datetime, session: AsyncClientSession | None = None
    ) -> tuple[datetime | None, set[str]]:
        """The latest lock of `keys` still in force at `now` (if any), and which of the keys
        have failures on record."""
        cursor = self.failures.find({"_id": {"$in": list(keys)}}, session=session)
        live = [d async for d in cursor if d["forget_at"] > now]
        locks = [d["locked_until"] for d in live if (d.get("locked_until") or now) > now]
        return max(locks, default=None), {d["_id"] for d in live}

    async def failed(
        self,
        key: str,
        now: datetime,
        forget_at: datetime,
        session: AsyncClientSession | None = None,
    ) -> int:
        """Counts one more failure, starting again from one after a record past its time
        (the TTL index removes those only eventually); returns the count."""
        before = await self.failures.find_one_and_update(
            {"_id": key},
            {"$inc": {"failures": 1}, "$set": {"forget_at": forget_at}},
            upsert=True,
            return_document=ReturnDocument.BEFORE,
            session=session,
        )
        if before is None:
            return 1
        if before["forget_at"] <= now:
            await self.failures.update_one(
                {"_id": key},
                {"$set": {"failures": 1}, "$unset": {"locked_until": ""}},
                session=session,
            )
            return 1
        return int(before["failures"]) + 1

    async def lock(
        self, key: str, until: datetime, session: AsyncClientSession | None = None
    ) -> None:
        await self.failures.update_one(
            {"_id": key}, {"$set": {"locked_until": until}}, session=session
        )

    async def clear(self, key: str, session: AsyncClientSession | None = None) -> None:
        """After a good login: the account's failures are forgotten (not the client's)."""
        await self.failures.delete_one({"_id": key}, session=session)
