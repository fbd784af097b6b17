"""Unsubscribed addresses (`preferences`), by address key: never the address itself."""

from __future__ import annotations

from datetime import datetime

from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase

from services.notify.domain.model import Channel
from shared.mongo import Document

PREFERENCES = "preferences"


class PreferenceStore:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.col = db[PREFERENCES]

    async def unsubscribe(self, address_key: str, channel: Channel, now: datetime) -> None:
        await self.col.update_one(
            {"_id": address_key},
            {"$set": {"channel": channel.value, "unsubscribed": True, "updated_at": now}},
            upsert=True,
        )

    async def any_unsubscribed(
        self, keys: list[str], session: AsyncClientSession | None = None
    ) -> set[str]:
        """Which of `keys` unsubscribed."""
        cursor = self.col.find(
            {"_id": {"$in": keys}, "unsubscribed": True}, {"_id": 1}, session=session
        )
        return {d["_id"] async for d in cursor}
