"""A consumer's copy of routing's staff token versions (`auth.account_changed`): the revocation
feed of the services that check staff tokens without owning the accounts (notify, intake).

One document per login, `{_id: username, token_version, changed_at, seen_at}`; the highest
version wins (the compacted topic can replay an older one, a redelivery repeats one). The feed
is read by `seen_at`, the time this service stored the change, not routing's `changed_at`: a
change that reaches a lagging consumer minutes late is still newer than the last refresh.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from pymongo import IndexModel
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase

from shared.events import AccountChangedV1
from shared.mongo import Document, utcnow_ms
from shared.uow import UnitOfWork

COLLECTION = "account_versions"
ACCOUNT_VERSION_INDEXES: dict[str, Sequence[IndexModel]] = {
    COLLECTION: [IndexModel("seen_at", name="account_versions_seen")],
}


class AccountVersions:
    def __init__(
        self,
        db: AsyncDatabase[Document],
        collection: str = COLLECTION,
        *,
        clock: Callable[[], datetime] = utcnow_ms,
    ) -> None:
        self.col = db[collection]
        self.clock = clock

    async def record(self, changes: Sequence[AccountChangedV1], uow: UnitOfWork) -> None:
        """Keeps each change in the consumer's unit of work (a few per batch at most)."""
        for change in changes:
            await self.save(change, uow.session)

    async def save(self, change: AccountChangedV1, session: AsyncClientSession | None) -> bool:
        """Stores the change unless the copy is as new or newer; True if it was stored."""
        current = await self.col.find_one(
            {"_id": change.username}, {"token_version": 1}, session=session
        )
        if current is not None and int(current.get("token_version", 0)) >= change.token_version:
            return False
        doc = {
            "token_version": change.token_version,
            "changed_at": change.changed_at,
            "seen_at": self.clock(),
        }
        await self.col.replace_one({"_id": change.username}, doc, upsert=True, session=session)
        return True

    async def changed_since(self, since: datetime) -> list[tuple[str, int]]:
        """(username, token version) of the changes stored at or after `since` (indexed): the
        feed of `shared.auth.Revocations`."""
        cursor = self.col.find({"seen_at": {"$gte": since}}, {"token_version": 1})
        return [(d["_id"], int(d.get("token_version", 0))) async for d in cursor]
