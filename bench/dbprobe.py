"""Read-only looks into the services' databases over the wire protocol: the server's operation
counters (with the bench's own operations taken out) and how far each report has got.

Where each service keeps what the bench observes (the only place the bench knows a storage shape;
adjust here if a service renames a collection or field):
- intake `reports`: `_id` = report id, `status` (`received` until routing's answer arrives);
- notify `deliveries`: `report_id`, `event_type`, `status` (final: sent, dead, skipped),
  `event_id`, `recipient_kind`, `recipient_id`, `channel`;
- analytics `facts`: `_id` = report id, `status` (the projected public status);
- routing `assignments`: `report_id`, `status`.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from pymongo import AsyncMongoClient, monitoring
from pymongo.errors import AutoReconnect

OPS = ("insert", "query", "update", "delete", "getmore", "command")
FINAL_DELIVERY = ("sent", "dead", "skipped")
CHUNK = 500

Doc = dict[str, Any]


class OwnOps(monitoring.CommandListener):
    """Counts the commands this client sends, to take them out of the server's counters."""

    def __init__(self) -> None:
        self.n = 0

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        self.n += 1

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass


def connect(uri: str, listener: OwnOps | None = None) -> AsyncMongoClient[Doc]:
    return AsyncMongoClient(
        uri,
        serverSelectionTimeoutMS=5000,
        event_listeners=[listener] if listener else [],
        tz_aware=False,
    )


@dataclass
class OpsSample:
    at: float
    total: int
    by_kind: dict[str, int]
    own: int
    pid: int | None = None


class Counters:
    """serverStatus opcounters, summed over every kind, minus the bench's own commands."""

    def __init__(self, uri: str) -> None:
        self.own = OwnOps()
        self.client = connect(uri, self.own)

    async def sample(self) -> OpsSample:
        for attempt in range(5):  # a dropped connection under load is retried, not fatal
            own_before = self.own.n
            try:
                status = await self.client.admin.command("serverStatus")
                break
            except AutoReconnect:
                if attempt == 4:
                    raise
                await asyncio.sleep(1)
        counters = status.get("opcounters") or {}
        by_kind = {k: int(counters.get(k, 0)) for k in OPS}
        pid = status.get("pid")
        return OpsSample(
            time.monotonic(), sum(by_kind.values()), by_kind, own_before, int(pid) if pid else None
        )

    async def close(self) -> None:
        await self.client.close()


def ops_between(a: OpsSample, b: OpsSample) -> int:
    """Operations the server counted between two samples, without the bench's own.

    Each sample's serverStatus is counted in its own total, so the bench's commands in between
    are those sent after `a`'s serverStatus up to and including `b`'s: `b.own - a.own`."""
    return (b.total - a.total) - (b.own - a.own)


@dataclass
class Progress:
    """When each report was first seen done by each service (monotonic seconds)."""

    ids: list[str]
    assigned: dict[str, float] = field(default_factory=dict)
    notified: dict[str, float] = field(default_factory=dict)
    projected: dict[str, float] = field(default_factory=dict)

    def stages(self) -> dict[str, dict[str, float]]:
        return {"assigned": self.assigned, "notified": self.notified, "projected": self.projected}

    def done(self) -> bool:
        return all(len(s) == len(self.ids) for s in self.stages().values())

    def counts(self) -> dict[str, int]:
        return {k: len(v) for k, v in self.stages().items()}


def _chunks(items: list[str], n: int = CHUNK) -> Iterable[list[str]]:
    for i in range(0, len(items), n):
        yield items[i : i + n]


class Observer:
    """Polls the databases (one query per service and chunk of reports) to fill a Progress."""

    def __init__(self, client: AsyncMongoClient[Doc], db_names: dict[str, str]) -> None:
        self.intake = client[db_names["intake"]]["reports"]
        self.deliveries = client[db_names["notify"]]["deliveries"]
        self.facts = client[db_names["analytics"]]["facts"]

    async def poll(self, progress: Progress) -> None:
        now = time.monotonic()
        todo = [i for i in progress.ids if i not in progress.assigned]
        for chunk in _chunks(todo):
            q = {"_id": {"$in": chunk}, "status": {"$ne": "received"}}
            async for d in self.intake.find(q, {"_id": 1}):
                progress.assigned.setdefault(d["_id"], now)
        todo = [i for i in progress.ids if i not in progress.projected]
        for chunk in _chunks(todo):
            q = {"_id": {"$in": chunk}, "status": {"$nin": ["received", None]}}
            async for d in self.facts.find(q, {"_id": 1}):
                progress.projected.setdefault(d["_id"], now)
        todo = [i for i in progress.ids if i not in progress.notified]
        for chunk in _chunks(todo):
            q = {"report_id": {"$in": chunk}, "event_type": "report.assigned"}
            final: dict[str, bool] = {}
            async for d in self.deliveries.find(q, {"report_id": 1, "status": 1}):
                rid = d["report_id"]
                final[rid] = final.get(rid, True) and d.get("status") in FINAL_DELIVERY
            for rid, ok in final.items():
                if ok:
                    progress.notified.setdefault(rid, now)

    async def wait(self, progress: Progress, timeout: float, interval: float = 0.25) -> bool:
        deadline = time.monotonic() + timeout
        while True:
            await self.poll(progress)
            if progress.done():
                return True
            if time.monotonic() >= deadline:
                return False
            await asyncio.sleep(interval)
