"""The layout of earlier versions: one `events` document per event (`report`, `topic`, `source`,
`sequence`, `time`, `data`) and `dirty` marks. Read once, at the first start of this version,
to move every report's events into its `facts` document; then both collections are dropped."""

from __future__ import annotations

from collections.abc import AsyncIterator

from pymongo.asynchronous.database import AsyncDatabase

from services.analytics.domain.facts import Recorded
from shared.mongo import Document

EVENTS, DIRTY = "events", "dirty"


class LegacyEventLog:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.db = db

    async def exists(self) -> bool:
        return EVENTS in await self.db.list_collection_names()

    async def reports(self) -> AsyncIterator[tuple[str, list[Recorded]]]:
        """Each report's events (a full read, once)."""
        current: str | None = None
        events: list[Recorded] = []
        async for d in self.db[EVENTS].find({}).sort("report", 1):
            if d["report"] != current and current is not None:
                yield current, events
                events = []
            current = d["report"]
            events.append(
                Recorded(d["_id"], d["topic"], d["source"], d["sequence"], d["time"], d["data"])
            )
        if current is not None:
            yield current, events

    async def drop(self) -> None:
        await self.db.drop_collection(EVENTS)
        await self.db.drop_collection(DIRTY)
