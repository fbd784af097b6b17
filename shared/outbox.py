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
from datetime import UTC, datetime, timedelta
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
# An entry nobody holds: a lease that ended long ago (one range query finds every claimable entry,
# with no `$or`, which the embedded database would answer by scanning the whole collection).
NOT_LEASED = datetime(1970, 1, 1, tzinfo=UTC)

OUTBOX_INDEXES = {
    OUTBOX: [
        IndexModel([("status", ASCENDING), ("ts", ASCENDING)], name="pending_by_ts"),
        # The relay's claim. The embedded database uses an index only when it holds every
        # field of the filter, so the claim needs both fields in one index.
        IndexModel([("status", ASCENDING), ("lease_until", ASCENDING)], name="claimable"),
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


class OutboxRelay:
    """Publishes pending entries in write order; several replicas share the work through leases.

    One batch costs four database operations whatever its size: find the oldest claimable
    entries, lease them, publish them (entries of different reports concurrently, those of one
    report in order), then mark every acknowledged one sent in one write. The loop is woken by
    `Outbox.poke` after a commit; `poll_interval` is only the safety net (and the gauges' pace).
    """

    def __init__(
        self,
        outbox: Outbox,
        publish: Publish,
        metrics: ServiceMetrics,
        *,
        poll_interval: float = 30.0,
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
        self._gauges_due = 0.0

    async def flush_once(self) -> int:
        """Publishes one batch; returns how many entries were sent."""
        now = utcnow()
        claimable = {"status": "pending", "lease_until": {"$lte": now}}
        found = [
            d async for d in self.col.find(claimable).sort("ts", ASCENDING).limit(self.batch_size)
        ]
        if not found:
            return 0
        claim = f"{self.owner}:{uuid.uuid4().hex}"
        ids = [d["_id"] for d in found]
        res = await self.col.update_many(
            {"_id": {"$in": ids}, "lease_until": {"$lte": now}},
            {"$set": {"lease_until": now + self.lease, "owner": claim}},
        )
        if res.modified_count < len(found):  # another replica leased some of them first
            owners = self.col.find({"_id": {"$in": ids}}, {"owner": 1})
            mine = {d["_id"] async for d in owners if d.get("owner") == claim}
            found = [d for d in found if d["_id"] in mine]
        sent, failed = await self._publish_all(found)
        if sent:
            await self.col.update_many(
                {"_id": {"$in": sent}},
                {"$set": {"status": "sent", "sent_at": utcnow()}, "$unset": {"lease_until": ""}},
            )
        if failed:
            await self.col.update_many(
                {"_id": {"$in": failed}},
                {"$set": {"lease_until": NOT_LEASED}, "$inc": {"attempts": 1}},
            )
            raise ConnectionError(f"{len(failed)} outbox entries not published")
        return len(sent)

    async def _publish_all(self, docs: list[Document]) -> tuple[list[str], list[str]]:
        """Publishes each report's entries in order, different reports concurrently. Returns
        (acknowledged ids, ids not published: a report stops at its first failure)."""
        by_key: dict[str, list[Document]] = {}
        for doc in docs:
            by_key.setdefault(doc["key"], []).append(doc)
        sent: list[str] = []
        failed: list[str] = []

        async def one_report(entries: list[Document]) -> None:
            for i, doc in enumerate(entries):
                try:
                    await self._publish_one(doc)
                except Exception as exc:
                    log.warning("outbox publish failed: %r", exc)
                    self.metrics.publish_failures.labels(doc["type"]).inc()
                    failed.extend(d["_id"] for d in entries[i:])
                    return
                sent.append(doc["_id"])
                self.metrics.events_published.labels(doc["type"]).inc()

        await asyncio.gather(*(one_report(entries) for entries in by_key.values()))
        return sent, failed

    async def _publish_one(self, doc: Document) -> None:
        body = json.dumps(doc["event"], ensure_ascii=False).encode()
        headers = {"content-type": "application/cloudevents+json"}
        parent = doc["event"].get("traceparent")
        with span(f"publish {doc['type']}", parent, kind=SpanKind.PRODUCER) as tp:
            headers["traceparent"] = tp
            await self.publish(doc["topic"], doc["key"], body, headers)

    async def update_gauges(self) -> None:
        pending = await self.col.count_documents({"status": "pending"})
        self.metrics.outbox_pending.set(pending)
        oldest = (
            await self.col.find_one({"status": "pending"}, sort=[("ts", ASCENDING)])
            if pending
            else None
        )
        age = (utcnow() - oldest["created_at"]).total_seconds() if oldest else 0.0
        self.metrics.outbox_oldest_age.set(max(age, 0.0))

    def _drained(self) -> None:
        """Everything this relay could claim was published: nothing of its waits. (Entries
        another replica holds are in that replica's gauges: dashboards take the max.)"""
        self.metrics.outbox_pending.set(0)
        self.metrics.outbox_oldest_age.set(0.0)

    async def _gauges_if_due(self) -> None:
        """The backlog while publishing fails, counted at most once per poll interval."""
        if time.monotonic() >= self._gauges_due:
            self._gauges_due = time.monotonic() + self.poll_interval
            await self.update_gauges()

    async def run(self, stop: asyncio.Event) -> None:
        """Loops until `stop` is set, then flushes what is left once."""
        await self._adopt_legacy_entries()
        backoff = 0.0  # > 0 while publishing fails: retry soon, then less often
        while not stop.is_set():
            self.outbox._wake.clear()
            try:
                while await self.flush_once() >= self.batch_size:
                    pass
                self._drained()
                backoff = 0.0
            except Exception as exc:
                log.warning("outbox relay: %s", exc)
                backoff = min(max(backoff * 2, 0.5), MAX_BACKOFF_S)
                with contextlib.suppress(Exception):
                    await self._gauges_if_due()
            await wait_any(self.outbox._wake, stop, timeout=backoff or self.poll_interval)
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.flush_once(), timeout=5)

    async def _adopt_legacy_entries(self) -> None:
        """Entries written before leases had a time (`lease_until: null`) become claimable."""
        with contextlib.suppress(Exception):
            await self.col.update_many(
                {"status": "pending", "lease_until": None}, {"$set": {"lease_until": NOT_LEASED}}
            )
