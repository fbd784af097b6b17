"""The facts collection: one document per report, with its fact and every event it was computed
from (so one read of a batch's reports gives what their new facts need)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import asdict, fields
from datetime import UTC, datetime
from typing import Any

from pymongo import ASCENDING, IndexModel, ReplaceOne
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase

from services.analytics.domain.facts import UNDER_DEADLINE, Fact, Recorded
from services.analytics.domain.history import History, Projected
from services.analytics.domain.rollups import Where, resolve_bucket
from services.analytics.domain.tallies import GroupBy
from shared.mongo import Document

FACTS = "facts"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# Few indexes: each one costs every write of a fact (about 0.3 ms a document here). Those on a
# query field hold only the facts that have it (under a deadline; resolved): most writes, of
# reports just received or assigned, then cost them nothing. Written as ranges the queries imply
# (the embedded database uses a partial index for those, not for `$exists`).
_HAS_DUE = {"overdue_from": {"$gte": _EPOCH}}
_RESOLVED = {"resolve_bucket": {"$gte": 0}}  # a bucket is never negative
FACTS_INDEXES = [
    IndexModel([("created_day", ASCENDING)], name="by_created_day"),
    IndexModel([("overdue_from", ASCENDING)], name="overdue", partialFilterExpression=_HAS_DUE),
    IndexModel(
        [("agency_id", ASCENDING), ("resolve_bucket", ASCENDING)],
        name="agency_resolved",
        partialFilterExpression=_RESOLVED,
    ),
    IndexModel(
        [("category", ASCENDING), ("resolve_bucket", ASCENDING)],
        name="category_resolved",
        partialFilterExpression=_RESOLVED,
    ),
]
# Built by earlier versions over every fact; dropped at startup.
FACTS_RETIRED = ["by_overdue_from", "by_agency_resolve_bucket", "by_category_resolve_bucket"]
_UNDER_DEADLINE = {str(s) for s in UNDER_DEADLINE}
_WHERE = {"category": 1, "agency_id": 1, "area_id": 1}


def _event_doc(e: Recorded) -> Document:
    return {
        "id": e.id,
        "topic": e.topic,
        "source": e.source,
        "sequence": e.sequence,
        "time": e.time,
        "data": e.data,
    }


def _event(d: Document) -> Recorded:
    return Recorded(d["id"], d["topic"], d["source"], d["sequence"], d["time"], d["data"])


def fact_doc(p: Projected) -> Document:
    """The document of a report: the fact's fields, its events, and two fields for queries:
    `overdue_from` (the due time while under an agency's deadline) and `resolve_bucket`."""
    fact = asdict(p.fact)
    doc: Document = {"_id": fact.pop("report_id"), **fact}
    doc["events"] = [_event_doc(e) for e in p.events]
    if p.fact.status in _UNDER_DEADLINE and p.fact.due_at is not None:
        doc["overdue_from"] = p.fact.due_at
    if p.fact.time_to_resolve_s is not None:
        doc["resolve_bucket"] = resolve_bucket(p.fact.time_to_resolve_s)
    return doc


def fact_from(doc: Document) -> Fact | None:
    """The stored fact (None if the document has none)."""
    if "status" not in doc:
        return None
    values: dict[str, Any] = {
        f.name: doc.get(f.name, 0 if f.type == "int" else None)
        for f in fields(Fact)
        if f.name != "report_id"
    }
    return Fact(report_id=doc["_id"], **values)


def _where(d: Document) -> Where:
    return d.get("category"), d.get("agency_id"), d.get("area_id")


class FactStore:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.col = db[FACTS]

    async def histories(
        self, report_ids: Sequence[str], session: AsyncClientSession | None = None
    ) -> dict[str, History]:
        """The stored fact and events of each report (reports never seen are left out)."""
        cursor = self.col.find({"_id": {"$in": list(report_ids)}}, session=session)
        return {
            d["_id"]: History(fact_from(d), tuple(_event(e) for e in d.get("events", ())))
            async for d in cursor
        }

    async def save(
        self, projected: Sequence[Projected], session: AsyncClientSession | None = None
    ) -> None:
        """Inserts the new reports' documents, then replaces the others' (one write of each
        kind: an insert costs a third of a replacement).

        Two commands, the insert first: in a transaction a write that fails aborts it, and an
        unordered bulk write of both kinds would send the replacements to the aborted
        transaction anyway, whose `NoSuchTransaction` (a transient error) hides the duplicate
        key of an optimistic insert: the driver would retry the same attempt for two minutes
        instead of the batch being applied again reading the facts."""
        new = [fact_doc(p) for p in projected if p.first]
        if new:
            await self.col.insert_many(new, session=session)
        replaced = [
            ReplaceOne({"_id": p.fact.report_id}, fact_doc(p), upsert=True)
            for p in projected
            if not p.first
        ]
        if replaced:
            await self.col.bulk_write(replaced, ordered=False, session=session)

    async def overdue(self, now: datetime) -> list[Where]:
        """Where each report under an agency's deadline and past it is (bounded by those: the
        lower bound is the `overdue` index's filter)."""
        cursor = self.col.find({"overdue_from": {"$gte": _EPOCH, "$lt": now}}, _WHERE)
        return [_where(d) async for d in cursor]

    async def resolve_times(self, by: GroupBy, key: str, bucket: int) -> list[tuple[Where, float]]:
        """The resolve times in one histogram bucket of one agency or category."""
        cursor = self.col.find(
            {by: key, "resolve_bucket": bucket}, {**_WHERE, "time_to_resolve_s": 1}
        )
        return [(_where(d), float(d["time_to_resolve_s"])) async for d in cursor]

    async def any(self) -> bool:
        return await self.col.find_one({}, {"_id": 1}) is not None

    async def every_fact(self) -> AsyncIterator[Fact]:
        """Every stored fact (for rebuilding the rollups: a full read, never on a hot path)."""
        async for d in self.col.find({}, {"events": 0}):
            fact = fact_from(d)
            if fact is not None:
                yield fact
