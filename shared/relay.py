"""The outbox relay: publishes pending outbox entries (`shared/outbox.py`) in write order.

It marks each entry sent only after the broker acknowledged it, so a crash at any point loses
nothing (at worst an event is published twice, which idempotent consumers absorb).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
import uuid
from datetime import timedelta

from pymongo import ASCENDING

from shared.aio import wait_any
from shared.events import utcnow
from shared.metrics import ServiceMetrics
from shared.mongo import Document
from shared.outbox import MAX_BACKOFF_S, NOT_LEASED, OUTBOX, Outbox, Publish
from shared.tracing import SpanKind, span

log = logging.getLogger(__name__)


class OutboxRelay:
    """Publishes pending entries in write order; several replicas share the work through leases.

    What this process' units of work handed over is published at once (entries of different
    reports concurrently, those of one report in order); the acknowledged ones are marked sent
    together, in one write per `mark_delay` (0.25 s) or per `batch_size` entries, so a steady
    trickle of events costs a fraction of a write each. Until then they stay leased to this
    relay: a crash in between publishes them again after the lease (consumers drop the
    duplicate), as a crash between publishing and marking always could. A scan (at start, after a failure, when poked, and every
    `poll_interval` as the safety net) costs three: find the oldest claimable entries, lease
    them, publish, mark sent. Handed-over entries are published directly only while the last
    scan found the outbox drained (else they could overtake older entries of their report):
    otherwise their lease is given back and the scan publishes them in order.
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
        mark_delay: float = 0.25,
    ) -> None:
        self.outbox = outbox
        self.col = outbox.db[OUTBOX]
        self.publish = publish
        self.metrics = metrics
        self.poll_interval = poll_interval
        self.batch_size = batch_size
        self.lease = timedelta(seconds=lease_s)
        self.mark_delay = mark_delay
        self._unmarked: list[str] = []  # published from the hand-over, not yet marked sent
        self._mark_due = 0.0
        self.owner = str(uuid.uuid4())
        self._gauges_due = 0.0
        self._clean = False  # the last scan drained the outbox and nothing failed since
        outbox.held_by(self.owner, self.lease)

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
        return await self._send(found)

    async def _send(self, found: list[Document], defer_mark: bool = False) -> int:
        """Publishes leased entries, marks the acknowledged ones sent (or, `defer_mark`, leaves
        them to `_mark_sent`) and gives the others back."""
        sent, failed = await self._publish_all(found)
        if sent and defer_mark:
            if not self._unmarked:
                self._mark_due = time.monotonic() + self.mark_delay
            self._unmarked += sent
            if len(self._unmarked) >= self.batch_size:
                await self._mark_sent()
        elif sent:
            await self._mark_sent(sent)
        if failed:
            self._clean = False
            await self._give_back(failed, {"$inc": {"attempts": 1}})
            raise ConnectionError(f"{len(failed)} outbox entries not published")
        return len(sent)

    async def _mark_sent(self, more: list[str] | None = None) -> None:
        """Marks `more` and every deferred entry sent, in one write."""
        ids = self._unmarked + (more or [])
        if not ids:
            return
        await self.col.update_many(
            {"_id": {"$in": ids}},
            {"$set": {"status": "sent", "sent_at": utcnow()}, "$unset": {"lease_until": ""}},
        )
        self._unmarked = []

    def _until_marks_due(self) -> float | None:
        return max(self._mark_due - time.monotonic(), 0.0) if self._unmarked else None

    async def _give_back(self, ids: list[str], more: Document | None = None) -> None:
        await self.col.update_many(
            {"_id": {"$in": ids}, "status": "pending"},
            {"$set": {"lease_until": NOT_LEASED}, **(more or {})},
        )

    async def _handed_over(self) -> None:
        """Publishes what was handed over, in batches; gives it back to the scan unless the
        outbox was drained (or when half its lease is gone: a scan may soon take it anyway)."""
        while handed := self.outbox.take_handed(self.batch_size):
            fresh = utcnow() + self.lease / 2
            late = [d["_id"] for d in handed if d["lease_until"] < fresh]
            if late or not self._clean:
                await self._give_back([d["_id"] for d in handed])
                self.outbox.scan_wanted = True
                continue
            await self._send(handed, defer_mark=True)

    async def _scan(self) -> None:
        self.outbox.scan_wanted = False
        while await self.flush_once() >= self.batch_size:
            pass
        self._clean = True

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
                await self._handed_over()
                if self._until_marks_due() == 0.0:
                    await self._mark_sent()
                if self.outbox.scan_wanted or not self._clean:
                    await self._scan()
                self._drained()
                backoff = 0.0
            except Exception as exc:
                log.warning("outbox relay: %s", exc)
                self._clean = False
                backoff = min(max(backoff * 2, 0.5), MAX_BACKOFF_S)
                with contextlib.suppress(Exception):
                    await self._gauges_if_due()
            if not self.outbox._wake.is_set():
                marks = self._until_marks_due()
                timeout = backoff or self.poll_interval
                await wait_any(
                    self.outbox._wake,
                    stop,
                    timeout=timeout if marks is None else min(timeout, marks),
                )
                # the safety net: a wait that ran out, not cut short for the marks
                self.outbox.scan_wanted |= marks is None and not self.outbox._wake.is_set()
        self._clean = False  # what is still handed over goes back, then one last scan
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self._mark_sent(), timeout=5)
            await asyncio.wait_for(self._handed_over(), timeout=5)
            await asyncio.wait_for(self.flush_once(), timeout=5)

    async def _adopt_legacy_entries(self) -> None:
        """Entries written before leases had a time (`lease_until: null`) become claimable."""
        with contextlib.suppress(Exception):
            await self.col.update_many(
                {"status": "pending", "lease_until": None}, {"$set": {"lease_until": NOT_LEASED}}
            )
