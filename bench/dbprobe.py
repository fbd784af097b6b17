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
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pymongo import AsyncMongoClient, monitoring
from pymongo.errors import AutoReconnect, OperationFailure

OPS = ("insert", "query", "update", "delete", "getmore", "command")
FINAL_DELIVERY = ("sent", "dead", "skipped")
CHUNK = 500
# Commands the embedded database's profiler does not record (handshakes, cursors, sessions).
PROFILER_SKIPS = frozenset(
    {"hello", "isMaster", "ismaster", "ping", "buildInfo", "getMore", "killCursors", "endSessions"}
    | {"startSession", "refreshSessions", "saslStart", "saslContinue", "profile", "logout"}
)

Doc = dict[str, Any]


def namespace_of(name: str, command: Mapping[str, Any]) -> str | None:
    """The collection a command acts on (as the server's `top` attributes it), or None."""
    target = command.get("collection") if name == "getMore" else command.get(name)
    return target if isinstance(target, str) and target else None


class OwnOps(monitoring.CommandListener):
    """Counts the commands this client sends, to take them out of the server's counters:
    all of them (`n`, for opcounters) and per database those that name a collection (`by_db`,
    for the per-namespace `top` counters)."""

    def __init__(self) -> None:
        self.n = 0
        self.by_db: dict[str, int] = {}
        self.profiled_by_db: dict[str, int] = {}  # those the server's profiler records

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        self.n += 1
        db, name = event.database_name, event.command_name
        coll = namespace_of(name, event.command)
        if coll:
            self.by_db[db] = self.by_db.get(db, 0) + 1
        if name not in PROFILER_SKIPS and coll != "system.profile":
            self.profiled_by_db[db] = self.profiled_by_db.get(db, 0) + 1

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
    # `top`: commands per database that named one of its collections (getMores included), and
    # the bench's own such commands before the `top` call
    by_db: dict[str, int] = field(default_factory=dict)
    own_by_db: dict[str, int] = field(default_factory=dict)
    getmore_by_db: dict[str, int] = field(default_factory=dict)


def top_by_db(totals: Doc, section: str = "total") -> dict[str, int]:
    """Sums a `top` reply's per-namespace counts into per-database counts."""
    out: dict[str, int] = {}
    for ns, sections in totals.items():
        if ns == "note" or not isinstance(sections, dict) or "." not in ns:
            continue
        db = ns.split(".", 1)[0]
        out[db] = out.get(db, 0) + int((sections.get(section) or {}).get("count", 0))
    return out


class Counters:
    """serverStatus opcounters, summed over every kind, minus the bench's own commands; and the
    server's per-namespace `top` counters (always on, no cost) summed per database."""

    def __init__(self, uri: str) -> None:
        self.own = OwnOps()
        self.client = connect(uri, self.own)
        self.top_ok = True  # a server without `top` gives no per-database breakdown

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
        sample = OpsSample(
            time.monotonic(), sum(by_kind.values()), by_kind, own_before, int(pid) if pid else None
        )
        if self.top_ok:
            own_by_db = dict(self.own.by_db)
            try:
                totals = (await self.client.admin.command("top")).get("totals") or {}
            except (AutoReconnect, OperationFailure):
                self.top_ok = False
                return sample
            sample.by_db = top_by_db(totals)
            sample.getmore_by_db = top_by_db(totals, "getmore")
            sample.own_by_db = own_by_db
        return sample

    async def close(self) -> None:
        await self.client.close()


def db_ops_between(a: OpsSample, b: OpsSample) -> dict[str, int]:
    """Per database: commands that named one of its collections between two samples, without
    the bench's own (empty if the server gave no `top`)."""
    if not a.by_db and not b.by_db:
        return {}
    return {
        db: (b.by_db.get(db, 0) - a.by_db.get(db, 0))
        - (b.own_by_db.get(db, 0) - a.own_by_db.get(db, 0))
        for db in set(a.by_db) | set(b.by_db)
    }


def by_service(
    a: OpsSample,
    b: OpsSample,
    db_names: dict[str, str],
    idle: dict[str, float] | None = None,
    total: float | None = None,
) -> dict[str, float]:
    """A window's operations split by service (its database's `top` counts, minus the idle rate
    per service), and `other`: what no collection names (transaction commits, sessions, the
    drivers' heartbeats, the bench's serverStatus), i.e. `total` minus the services' sum."""
    per_db = db_ops_between(a, b)
    if not per_db:
        return {}
    span = b.at - a.at
    out = {
        svc: per_db.get(db, 0) - (idle or {}).get(svc, 0.0) * span for svc, db in db_names.items()
    }
    if total is not None:
        out["other"] = total - sum(out.values())
    return out


async def set_profiling(client: AsyncMongoClient[Doc], dbs: Iterable[str], level: int) -> None:
    """Profiler level on each database (2: every command; 0: off). Level 0 also drops what it
    recorded, so a service's database is left as it was."""
    for db in dbs:
        await client[db].command("profile", level)
        if level == 0:
            await client[db].drop_collection("system.profile")


async def profiled(client: AsyncMongoClient[Doc], dbs: dict[str, str]) -> dict[str, int]:
    """Entries the profiler recorded, per service."""
    return {svc: await client[db]["system.profile"].count_documents({}) for svc, db in dbs.items()}


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
        self.assignments = client[db_names["routing"]]["assignments"]
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
        # Notified: its assignment told, and none of its deliveries still queued (one a killed
        # notify sent but did not record stays leased until its lease ends, then is resent).
        todo = [i for i in progress.ids if i not in progress.notified]
        for chunk in _chunks(todo):
            fields = {"report_id": 1, "status": 1, "event_type": 1}
            final: dict[str, bool] = {}
            told: set[str] = set()
            async for d in self.deliveries.find({"report_id": {"$in": chunk}}, fields):
                rid = d["report_id"]
                final[rid] = final.get(rid, True) and d.get("status") in FINAL_DELIVERY
                if d.get("event_type") == "report.assigned":
                    told.add(rid)
            for rid, ok in final.items():
                if ok and rid in told:
                    progress.notified.setdefault(rid, now)

    async def routed(self, ids: list[str]) -> int:
        """How many of these reports routing holds an assignment for (its own record)."""
        found: set[str] = set()
        for chunk in _chunks(ids):
            q = {"report_id": {"$in": chunk}}
            found |= {d["report_id"] async for d in self.assignments.find(q, {"report_id": 1})}
        return len(found)

    async def wait(self, progress: Progress, timeout: float, interval: float = 0.25) -> bool:
        deadline = time.monotonic() + timeout
        while True:
            await self.poll(progress)
            if progress.done():
                return True
            if time.monotonic() >= deadline:
                return False
            await asyncio.sleep(interval)
