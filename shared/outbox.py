"""Transactional outbox: events are written with the state change, a relay publishes them.

A service emits events through its unit of work (`shared/uow.py`), which writes them here in
the same MongoDB transaction as its state change. `OutboxRelay` publishes pending entries in
write order and marks each one sent only after the broker acknowledged it, so a crash at any
point loses nothing (at worst an event is published twice, which idempotent consumers absorb).

Hand-over: while this process runs a relay, a unit of work writes its entries already leased
to that relay, and hands them over in memory once committed: the relay publishes them and marks
them sent (one write), with no read and no claim. The lease is the crash-recovery path: entries
a dead process held become claimable when it ends, and the relay's scan publishes them.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import BaseModel
from pymongo import ASCENDING, IndexModel, ReturnDocument
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase

from shared.events import CloudEvent, utcnow
from shared.mongo import Document
from shared.retention import Expiry
from shared.tracing import current_traceparent

log = logging.getLogger(__name__)

OUTBOX = "outbox"
SEQUENCES = "sequences"
SENT_RETENTION = timedelta(days=7)
# Short: a failed publish costs little, and events wait no longer than this once Kafka is back.
MAX_BACKOFF_S = 5.0  # (the relay's)
HANDOFF_MAX = 1000  # at most this many entries held in memory; more are left to the scan
# An entry nobody holds: a lease that ended long ago (one range query finds every claimable entry,
# with no `$or`, which the embedded database would answer by scanning the whole collection).
NOT_LEASED = datetime(1970, 1, 1, tzinfo=UTC)

OUTBOX_INDEXES = {
    OUTBOX: [
        # The relay's claim (its pending entries, sorted by `ts` in memory: as many as wait) and
        # the backlog gauges (`status` alone). The embedded database uses an index only when it
        # holds every field of the filter, so the claim needs both fields in one index.
        IndexModel([("status", ASCENDING), ("lease_until", ASCENDING)], name="claimable"),
    ]
}
# Created by earlier versions, dropped at startup: no query used them, and every index costs
# each write of an entry (its insert and its mark as sent: an update rewrites every index entry
# of the document).
OUTBOX_RETIRED = {OUTBOX: ["pending_by_ts", "by_subject_type"]}
# Sent entries are kept a week (a replay to a new consumer reads them), then deleted.
OUTBOX_EXPIRY = Expiry(OUTBOX, "sent_at", SENT_RETENTION, "sent_at", retired_ttl="sent_ttl")

# publish(topic, key, body, headers) -> awaits the broker's acknowledgement
Publish = Callable[[str, str, bytes, dict[str, str]], Awaitable[Any]]


def encode(event: CloudEvent) -> bytes:
    return event.model_dump_json(exclude_none=True).encode()


class Outbox:
    """Writes events to the outbox collection inside the caller's transaction."""

    def __init__(
        self,
        db: AsyncDatabase[Document],
        source: str,
        topic_prefix: str = "",
        *,
        publishes: bool = True,
    ) -> None:
        self.db = db
        self.publishes = publishes  # False: no relay runs; writing an event is a bug
        self.source = source
        self.topic_prefix = topic_prefix
        self._wake = asyncio.Event()
        self.scan_wanted = True  # something to publish that was not handed over: read for it
        self._holder: tuple[str, timedelta] | None = None  # (owner, lease) of this process' relay
        self._handed: list[Document] = []

    def held_by(self, owner: str, lease: timedelta) -> None:
        """Entries written from now on are leased to this relay and handed to it after commit."""
        self._holder = (owner, lease)

    async def next_sequence(self, subject: str, session: AsyncClientSession | None) -> int:
        doc = await self.db[SEQUENCES].find_one_and_update(
            {"_id": subject},
            {"$inc": {"seq": 1}},
            upsert=True,
            return_document=ReturnDocument.AFTER,
            session=session,
        )
        assert doc is not None
        return int(doc["seq"])

    def new_event(self, type_: str, subject: str, data: BaseModel, sequence: int) -> CloudEvent:
        """The event's id is made here, once: a republish sends the same id again."""
        return CloudEvent(
            id=str(uuid.uuid4()),
            source=self.source,
            type=type_,
            subject=subject,
            dataschema=f"{type_}/v1",
            sequence=sequence,
            traceparent=current_traceparent(),
            data=data.model_dump(mode="json"),
        )

    async def insert(
        self, session: AsyncClientSession | None, events: list[CloudEvent], *, held: bool = False
    ) -> list[Document]:
        """Writes the events as pending entries, in order, in one write; returns them. `held`
        (a unit of work): leased to this process' relay, if it has one and room, for
        `committed` to hand them over after the commit."""
        if not events:
            return []
        if not self.publishes:
            raise RuntimeError(f"{self.source} publishes no events (Runtime(emits=False))")
        base = time.time_ns()
        lease: Document = {"lease_until": NOT_LEASED}
        if held and self._holder is not None and len(self._handed) < HANDOFF_MAX:
            owner, length = self._holder
            lease = {"lease_until": utcnow() + length, "owner": owner}
        entries = [self._entry(event, base + i) | lease for i, event in enumerate(events)]
        await self.db[OUTBOX].insert_many(entries, session=session)
        return entries

    def committed(self, entries: list[Document]) -> None:
        """The transaction that wrote `entries` committed: hands them over, or wakes the scan."""
        if entries and self._holder is not None and entries[0].get("owner") == self._holder[0]:
            self._handed += entries
            self._wake.set()
        elif entries:
            self.poke()

    def take_handed(self, limit: int) -> list[Document]:
        """Up to `limit` entries handed over, oldest first."""
        taken, self._handed = self._handed[:limit], self._handed[limit:]
        return taken

    def _entry(self, event: CloudEvent, ts: int) -> Document:
        return {
            "_id": event.id,
            "topic": self.topic_prefix + event.type,
            "key": event.subject,
            "type": event.type,
            "subject": event.subject,
            "event": json.loads(encode(event)),
            "status": "pending",
            "ts": ts,
            "created_at": utcnow(),
            "lease_until": NOT_LEASED,
            "attempts": 0,
        }

    async def add(
        self,
        session: AsyncClientSession | None,
        type_: str,
        subject: str,
        data: BaseModel,
        *,
        sequence: int | None = None,
    ) -> CloudEvent:
        """One event outside a unit of work (tests and tools; services emit through `uow`)."""
        if sequence is None:
            sequence = await self.next_sequence(subject, session)
        event = self.new_event(type_, subject, data, sequence)
        await self.insert(session, [event])
        return event

    def poke(self) -> None:
        """Tells the relay there is something to publish (call after the transaction commits)."""
        self.scan_wanted = True
        self._wake.set()

    async def republish(self, event_id: str) -> bool:
        """Marks an already-sent entry pending again, with the same event id (reconciliation)."""
        res = await self.db[OUTBOX].update_one(
            {"_id": event_id, "status": "sent"},
            {"$set": {"status": "pending", "lease_until": NOT_LEASED}, "$unset": {"sent_at": ""}},
        )
        if res.modified_count:
            self.poke()
        return bool(res.modified_count)
