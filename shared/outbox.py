"""Transactional outbox: events are written with the state change, a relay publishes them.

A service emits events through its unit of work (`shared/uow.py`), which writes them here in
the same MongoDB transaction as its state change. `OutboxRelay` publishes pending entries in write order and marks each one sent only
after the broker acknowledged it, so a crash at any point loses nothing (at worst an event is
published twice, which idempotent consumers absorb).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from pydantic import BaseModel
from pymongo import ASCENDING, IndexModel, ReturnDocument
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase

from shared.aio import wait_any
from shared.events import CloudEvent, utcnow
from shared.metrics import ServiceMetrics
from shared.mongo import Document
from shared.tracing import SpanKind, current_traceparent, span

log = logging.getLogger(__name__)

OUTBOX = "outbox"
SEQUENCES = "sequences"
SENT_RETENTION = timedelta(days=7)
# Short: a failed publish costs little, and events wait no longer than this once Kafka is back.
MAX_BACKOFF_S = 5.0

OUTBOX_INDEXES = {
    OUTBOX: [
        IndexModel([("status", ASCENDING), ("ts", ASCENDING)], name="pending_by_ts"),
        IndexModel([("subject", ASCENDING), ("type", ASCENDING)], name="by_subject_type"),
        IndexModel(
            [("sent_at", ASCENDING)],
            name="sent_ttl",
            expireAfterSeconds=int(SENT_RETENTION.total_seconds()),
        ),
    ]
}

# publish(topic, key, body, headers) -> awaits the broker's acknowledgement
Publish = Callable[[str, str, bytes, dict[str, str]], Awaitable[Any]]


def encode(event: CloudEvent) -> bytes:
    return event.model_dump_json(exclude_none=True).encode()


class Outbox:
    """Writes events to the outbox collection inside the caller's transaction."""

    def __init__(self, db: AsyncDatabase[Document], source: str, topic_prefix: str = "") -> None:
        self.db = db
        self.source = source
        self.topic_prefix = topic_prefix
        self._wake = asyncio.Event()

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

    async def insert(self, session: AsyncClientSession | None, events: list[CloudEvent]) -> None:
        """Writes the events as pending entries, in order, in one write."""
        if not events:
            return
        base = time.time_ns()
        await self.db[OUTBOX].insert_many(
            [self._entry(event, base + i) for i, event in enumerate(events)], session=session
        )

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
            "lease_until": None,
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
        self._wake.set()

    async def republish(self, event_id: str) -> bool:
        """Marks an already-sent entry pending again, with the same event id (reconciliation)."""
        res = await self.db[OUTBOX].update_one(
            {"_id": event_id, "status": "sent"},
            {"$set": {"status": "pending", "lease_until": None}, "$unset": {"sent_at": ""}},
        )
        if res.modified_count:
            self.poke()
        return bool(res.modified_count)


class OutboxRelay:
    """Publishes pending entries in write order; several replicas share the work through leases."""

    def __init__(
        self,
        outbox: Outbox,
        publish: Publish,
        metrics: ServiceMetrics,
        *,
        poll_interval: float = 1.0,
        batch_size: int = 100,
        lease_s: float = 30.0,
    ) -> None:
        self.outbox = outbox
        self.col = outbox.db[OUTBOX]
        self.publish = publish
        self.metrics = metrics
        self.poll_interval = poll_interval
        self.batch_size = batch_size
        self.lease = timedelta(seconds=lease_s)
        self.owner = str(uuid.uuid4())

    async def flush_once(self) -> int:
        """Publishes one batch; returns how many entries were sent."""
        now = utcnow()
        claimable = {
            "status": "pending",
            "$or": [
                {"lease_until": None},
                {"lease_until": {"$lte": now}},
                {"owner": self.owner},
            ],
        }
        ids = [
            d["_id"]
            async for d in self.col.find(claimable, {"_id": 1})
            .sort("ts", ASCENDING)
            .limit(self.batch_size)
        ]
        if not ids:
            return 0
        await self.col.update_many(
            {**claimable, "_id": {"$in": ids}},
            {"$set": {"lease_until": now + self.lease, "owner": self.owner}},
        )
        mine = self.col.find({"_id": {"$in": ids}, "owner": self.owner, "status": "pending"})
        sent = 0
        for doc in [d async for d in mine.sort("ts", ASCENDING)]:
            body = json.dumps(doc["event"], ensure_ascii=False).encode()
            headers = {"content-type": "application/cloudevents+json"}
            try:
                parent = doc["event"].get("traceparent")
                with span(f"publish {doc['type']}", parent, kind=SpanKind.PRODUCER) as tp:
                    headers["traceparent"] = tp
                    await self.publish(doc["topic"], doc["key"], body, headers)
            except Exception:
                self.metrics.publish_failures.labels(doc["type"]).inc()
                await self.col.update_one({"_id": doc["_id"]}, {"$inc": {"attempts": 1}})
                raise  # keep per-report order: stop the batch, retry later
            await self.col.update_one(
                {"_id": doc["_id"]},
                {"$set": {"status": "sent", "sent_at": utcnow()}, "$unset": {"lease_until": ""}},
            )
            self.metrics.events_published.labels(doc["type"]).inc()
            sent += 1
        return sent

    async def update_gauges(self) -> None:
        pending = await self.col.count_documents({"status": "pending"})
        self.metrics.outbox_pending.set(pending)
        oldest = await self.col.find_one({"status": "pending"}, sort=[("ts", ASCENDING)])
        age = (utcnow() - oldest["created_at"]).total_seconds() if oldest else 0.0
        self.metrics.outbox_oldest_age.set(max(age, 0.0))

    async def run(self, stop: asyncio.Event) -> None:
        """Loops until `stop` is set, then flushes what is left once."""
        backoff = self.poll_interval
        while not stop.is_set():
            try:
                while await self.flush_once() >= self.batch_size:
                    pass
                await self.update_gauges()
                backoff = self.poll_interval
            except Exception as exc:
                log.warning("outbox relay: %s", exc)
                backoff = min(backoff * 2, MAX_BACKOFF_S)
            await self._sleep(backoff, stop)
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.flush_once(), timeout=5)

    async def _sleep(self, seconds: float, stop: asyncio.Event) -> None:
        await wait_any(self.outbox._wake, stop, timeout=seconds)
        self.outbox._wake.clear()
