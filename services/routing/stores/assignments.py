"""Assignments: one document per report (unique `report_id`), written under a revision guard.

Every query names only fields of one index (the embedded database's planner uses an index only
then) and none uses `$or`; what an index cannot answer (a queue's category, `overdue=false`)
is filtered here while reading in due order, before the limit.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import UTC, datetime

from pymongo import ASCENDING, IndexModel, ReplaceOne, UpdateOne
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.cursor import AsyncCursor
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError

from services.routing.domain.assignment import OPEN, Assignment, AState
from services.routing.domain.errors import ChangedMeanwhile
from services.routing.domain.queue import DueTime, QueueFilter
from shared.mongo import Document
from shared.outbox import SEQUENCES

ASSIGNMENTS = "assignments"

ASSIGNMENT_INDEXES: dict[str, Sequence[IndexModel]] = {
    ASSIGNMENTS: [
        IndexModel([("report_id", ASCENDING)], name="report_unique", unique=True),
        # Queues: an agency's by status, an agency's by due time, all by status, all by due time.
        IndexModel(
            [("agency_id", ASCENDING), ("status", ASCENDING), ("due_at", ASCENDING)],
            name="queue",
        ),
        IndexModel([("agency_id", ASCENDING), ("due_at", ASCENDING)], name="agency_by_due"),
        IndexModel([("status", ASCENDING), ("due_at", ASCENDING)], name="open_by_due"),
        IndexModel([("due_at", ASCENDING)], name="by_due"),
        IndexModel(
            [("duplicate_of", ASCENDING), ("status", ASCENDING)], name="duplicates_by_status"
        ),
    ],
}

OPEN_VALUES = [s.value for s in OPEN]
DUPLICATE_KEY = 11000
# Before every due time: the range that walks the `by_due` index over every assignment.
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def to_doc(a: Assignment, rev: int) -> Document:
    doc = dataclasses.asdict(a)
    doc["_id"] = doc.pop("id")
    doc["status"] = a.status.value
    doc["rev"] = rev
    return doc


def from_doc(doc: Document) -> tuple[Assignment, int]:
    data = dict(doc)
    rev = int(data.pop("rev", 0))
    data["id"] = data.pop("_id")
    data["status"] = AState(data["status"])
    fields = {f.name for f in dataclasses.fields(Assignment)}
    return Assignment(**{k: v for k, v in data.items() if k in fields}), rev


def _indexed(f: QueueFilter, now: datetime) -> list[Document]:
    """The parts of the queue filter that indexes answer: one query, or one per open status
    for `overdue` (a status list and a due-time range in one query would scan), none when
    nothing can match."""
    if f.report_id:
        return [{"report_id": f.report_id}]
    statuses = f.statuses
    if f.overdue:
        statuses = [s for s in statuses or OPEN_VALUES if s in OPEN_VALUES]
    agency = {} if f.agency_id is None else {"agency_id": f.agency_id}
    if f.overdue:
        return [{**agency, "status": s, "due_at": {"$lt": now}} for s in statuses or ()]
    if statuses:
        return [{**agency, "status": statuses[0] if len(statuses) == 1 else {"$in": statuses}}]
    return [agency or {"due_at": {"$gte": EPOCH}}]


async def _matching(
    cursor: AsyncCursor[Document], f: QueueFilter, now: datetime
) -> list[Assignment]:
    """The cursor's assignments that match the whole filter, up to its limit."""
    found: list[Assignment] = []
    try:
        async for doc in cursor:
            a = from_doc(doc)[0]
            if f.matches(a, now):
                found.append(a)
                if len(found) == f.limit:
                    break
    finally:
        await cursor.close()
    return found


class AssignmentStore:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.assignments = db[ASSIGNMENTS]
        self.sequences = db[SEQUENCES]

    async def _loaded(
        self, docs: list[Document], session: AsyncClientSession | None
    ) -> list[tuple[Assignment, int]]:
        """Assignments to change. One stored before it kept its event counter takes it from the
        outbox's per-report counter (one read, for such documents only)."""
        legacy = [d["report_id"] for d in docs if "event_seq" not in d]
        if legacy:
            found = self.sequences.find({"_id": {"$in": legacy}}, session=session)
            seqs = {d["_id"]: int(d["seq"]) async for d in found}
            for d in docs:
                d.setdefault("event_seq", seqs.get(d["report_id"], 0))
        return [from_doc(d) for d in docs]

    async def get(
        self, assignment_id: str, session: AsyncClientSession | None = None
    ) -> tuple[Assignment, int] | None:
        """The assignment and its revision (to `save` against)."""
        doc = await self.assignments.find_one({"_id": assignment_id}, session=session)
        return (await self._loaded([doc], session))[0] if doc else None

    async def by_report(
        self, report_id: str, session: AsyncClientSession | None = None
    ) -> tuple[Assignment, int] | None:
        return (await self.by_reports([report_id], session)).get(report_id)

    async def by_reports(
        self, report_ids: Sequence[str], session: AsyncClientSession | None = None
    ) -> dict[str, tuple[Assignment, int]]:
        """The assignments of these reports (one read), by report id."""
        cursor = self.assignments.find({"report_id": {"$in": list(report_ids)}}, session=session)
        found = await self._loaded([d async for d in cursor], session)
        return {a.report_id: (a, rev) for a, rev in found}

    async def insert(
        self, new: Sequence[Assignment], session: AsyncClientSession | None = None
    ) -> None:
        """New reports' assignments, in one write; `ChangedMeanwhile` if one of the reports
        has one already (a concurrent delivery won: the unit of work is undone)."""
        if not new:
            return
        try:
            await self.assignments.insert_many([to_doc(a, 1) for a in new], session=session)
        except BulkWriteError as exc:
            if not all(e.get("code") == DUPLICATE_KEY for e in exc.details.get("writeErrors", [])):
                raise
            raise ChangedMeanwhile(new[0].id) from exc

    async def insert_absent(
        self, new: Sequence[Assignment], session: AsyncClientSession | None = None
    ) -> set[str]:
        """Inserts each assignment whose report has none yet, in one write (an upsert each:
        slower per document than `insert`, so for one or a few); returns the report ids
        inserted (the others already had one, which is left as it was)."""
        if not new:
            return set()
        res = await self.assignments.bulk_write(
            [
                UpdateOne({"report_id": a.report_id}, {"$setOnInsert": to_doc(a, 1)}, upsert=True)
                for a in new
            ],
            session=session,
        )
        return {new[i].report_id for i in res.upserted_ids or {}}

    async def save(
        self, a: Assignment, rev: int, session: AsyncClientSession | None = None
    ) -> None:
        """Optimistic write: `ChangedMeanwhile` if someone else saved it since `rev`."""
        await self.save_many([(a, rev)], session)

    async def save_many(
        self, changed: Sequence[tuple[Assignment, int]], session: AsyncClientSession | None = None
    ) -> None:
        """`save` for several, in one write (the caller's transaction undoes all on refusal)."""
        if not changed:
            return
        res = await self.assignments.bulk_write(
            [ReplaceOne({"_id": a.id, "rev": rev}, to_doc(a, rev + 1)) for a, rev in changed],
            session=session,
        )
        if res.matched_count != len(changed):
            raise ChangedMeanwhile(changed[0][0].id)

    async def duplicates_of(
        self, report_id: str, session: AsyncClientSession | None = None
    ) -> list[tuple[Assignment, int]]:
        cursor = self.assignments.find(
            {"duplicate_of": report_id, "status": AState.DUPLICATE.value}, session=session
        )
        return await self._loaded([d async for d in cursor], session)

    async def query(
        self, f: QueueFilter, now: datetime, session: AsyncClientSession | None = None
    ) -> list[Assignment]:
        """Up to `f.limit` assignments matching `f`, by due time."""
        # The indexes answer the whole filter unless it names a category or "not overdue".
        exact = not f.category and f.overdue is not False
        found: list[Assignment] = []
        for flt in _indexed(f, now):
            cursor = self.assignments.find(flt, session=session).sort("due_at", ASCENDING)
            if exact:
                cursor = cursor.limit(f.limit)
            found += await _matching(cursor, f, now)
        return sorted(found, key=lambda a: a.due_at)[: f.limit]

    async def open_due_from(
        self, since: datetime, session: AsyncClientSession | None = None
    ) -> list[tuple[Assignment, int]]:
        """The open assignments due at or after `since` (what a closure day can move): one
        query per open status on the `open_by_due` index."""
        found: list[tuple[Assignment, int]] = []
        for status in OPEN_VALUES:
            cursor = self.assignments.find(
                {"status": status, "due_at": {"$gte": since}}, session=session
            )
            found += await self._loaded([d async for d in cursor], session)
        return found

    async def overdue_due_times(
        self, now: datetime, session: AsyncClientSession | None = None
    ) -> list[DueTime]:
        """The due times of the open assignments due before `now`: one range of the
        `open_by_due` index per open status."""
        found: list[DueTime] = []
        for status in OPEN_VALUES:
            flt = {"status": status, "due_at": {"$lt": now}}
            found += await self._due_times(flt, session)
        return found

    async def open_due_times(self, session: AsyncClientSession | None = None) -> list[DueTime]:
        """The due times of the open assignments (one read of three small fields each)."""
        return await self._due_times({"status": {"$in": OPEN_VALUES}}, session)

    async def _due_times(self, flt: Document, session: AsyncClientSession | None) -> list[DueTime]:
        fields = {"agency_id": 1, "due_at": 1, "escalated_due": 1}
        cursor = self.assignments.find(flt, fields, session=session)
        return [
            DueTime(d["_id"], d["agency_id"], d["due_at"], d.get("escalated_due"))
            async for d in cursor
        ]
