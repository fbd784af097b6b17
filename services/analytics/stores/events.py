"""The event log per report and the queue of reports waiting for re-projection."""

from __future__ import annotations

from pymongo import ASCENDING, IndexModel
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase

from services.analytics.domain.facts import DirtyMark, Recorded
from shared.mongo import Document

EVENTS, DIRTY = "events", "dirty"
EVENTS_INDEXES = [IndexModel([("report", ASCENDING)], name="by_report")]


class EventLog:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.events = db[EVENTS]
        self.dirty = db[DIRTY]

    async def record(
        self, report_id: str, event: Recorded, session: AsyncClientSession | None = None
    ) -> None:
        """Keeps the event (idempotently) and marks its report for re-projection."""
        doc = {
            "report": report_id,
            "topic": event.topic,
            "source": event.source,
            "sequence": event.sequence,
            "time": event.time,
            "data": event.data,
        }
        await self.events.update_one(
            {"_id": event.id}, {"$setOnInsert": doc}, upsert=True, session=session
        )
        await self.dirty.update_one(
            {"_id": report_id}, {"$set": {"token": event.id}}, upsert=True, session=session
        )

    async def events_of(
        self, report_id: str, session: AsyncClientSession | None = None
    ) -> list[Recorded]:
        docs = await self.events.find({"report": report_id}, session=session).to_list()
        return [
            Recorded(d["_id"], d["topic"], d["source"], d["sequence"], d["time"], d["data"])
            for d in docs
        ]

    async def dirty_batch(
        self, limit: int, session: AsyncClientSession | None = None
    ) -> list[DirtyMark]:
        docs = await self.dirty.find(session=session).limit(limit).to_list()
        return [DirtyMark(d["_id"], d["token"]) for d in docs]

    async def pending_count(self, session: AsyncClientSession | None = None) -> int:
        return await self.dirty.count_documents({}, session=session)

    async def clear_dirty(self, mark: DirtyMark, session: AsyncClientSession | None = None) -> None:
        """Clears the mark unless an event arrived meanwhile (then the report is projected again)."""
        await self.dirty.delete_one({"_id": mark.report_id, "token": mark.token}, session=session)
