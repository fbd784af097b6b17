"""Assignments: one document per report (unique `report_id`), written under a revision guard."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from pymongo import ASCENDING, IndexModel
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from services.routing.domain.assignment import OPEN, Assignment, AState, QueueFilter
from services.routing.domain.errors import ChangedMeanwhile
from shared.mongo import Document

ASSIGNMENTS = "assignments"

ASSIGNMENT_INDEXES: dict[str, Sequence[IndexModel]] = {
    ASSIGNMENTS: [
        IndexModel([("report_id", ASCENDING)], name="report_unique", unique=True),
        IndexModel(
            [("agency_id", ASCENDING), ("status", ASCENDING), ("due_at", ASCENDING)],
            name="queue",
        ),
        IndexModel([("status", ASCENDING), ("due_at", ASCENDING)], name="open_by_due"),
        IndexModel([("duplicate_of", ASCENDING)], name="duplicates"),
    ],
}

OPEN_VALUES = [s.value for s in OPEN]


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


def _query(f: QueueFilter, now: datetime) -> dict[str, Any]:
    flt: dict[str, Any] = {}
    if f.agency_id is not None:
        flt["agency_id"] = f.agency_id
    if f.statuses:
        flt["status"] = {"$in": f.statuses}
    if f.category:
        flt["category"] = f.category
    if f.report_id:
        flt["report_id"] = f.report_id
    if f.overdue is None:
        return flt
    late = {"status": {"$in": OPEN_VALUES}, "due_at": {"$lt": now}}
    not_late = {"$or": [{"status": {"$nin": OPEN_VALUES}}, {"due_at": {"$gte": now}}]}
    return {"$and": [flt, late if f.overdue else not_late]}


class AssignmentStore:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.assignments = db[ASSIGNMENTS]

    async def get(
        self, assignment_id: str, session: AsyncClientSession | None = None
    ) -> tuple[Assignment, int] | None:
        """The assignment and its revision (to `save` against)."""
        doc = await self.assignments.find_one({"_id": assignment_id}, session=session)
        return from_doc(doc) if doc else None

    async def by_report(
        self, report_id: str, session: AsyncClientSession | None = None
    ) -> tuple[Assignment, int] | None:
        doc = await self.assignments.find_one({"report_id": report_id}, session=session)
        return from_doc(doc) if doc else None

    async def insert(self, a: Assignment, session: AsyncClientSession | None = None) -> None:
        """A new report's assignment; `ChangedMeanwhile` if the report already has one."""
        try:
            await self.assignments.insert_one(to_doc(a, 1), session=session)
        except DuplicateKeyError as exc:  # a concurrent delivery won
            raise ChangedMeanwhile(a.id) from exc

    async def save(
        self, a: Assignment, rev: int, session: AsyncClientSession | None = None
    ) -> None:
        """Optimistic write: `ChangedMeanwhile` if someone else saved it since `rev`."""
        res = await self.assignments.replace_one(
            {"_id": a.id, "rev": rev}, to_doc(a, rev + 1), session=session
        )
        if res.matched_count != 1:
            raise ChangedMeanwhile(a.id)

    async def duplicates_of(
        self, report_id: str, session: AsyncClientSession | None = None
    ) -> list[tuple[Assignment, int]]:
        cursor = self.assignments.find(
            {"duplicate_of": report_id, "status": AState.DUPLICATE.value}, session=session
        )
        return [from_doc(d) async for d in cursor]

    async def query(
        self, f: QueueFilter, now: datetime, session: AsyncClientSession | None = None
    ) -> list[Assignment]:
        """Up to `f.limit` assignments matching `f`, by due time."""
        cursor = (
            self.assignments.find(_query(f, now), session=session)
            .sort("due_at", ASCENDING)
            .limit(f.limit)
        )
        return [from_doc(d)[0] async for d in cursor]

    async def overdue_ids(
        self, now: datetime, session: AsyncClientSession | None = None
    ) -> list[str]:
        """Open assignments past due and not yet escalated for that due time."""
        cursor = self.assignments.find(
            {"status": {"$in": OPEN_VALUES}, "due_at": {"$lt": now}},
            {"due_at": 1, "escalated_due": 1},
            session=session,
        )
        return [d["_id"] async for d in cursor if d.get("escalated_due") != d["due_at"]]

    async def open_counts(
        self, now: datetime, session: AsyncClientSession | None = None
    ) -> tuple[dict[str, int], dict[str, int]]:
        """(open, overdue) assignments per agency."""
        opened: dict[str, int] = {}
        overdue: dict[str, int] = {}
        cursor = self.assignments.find(
            {"status": {"$in": OPEN_VALUES}}, {"agency_id": 1, "due_at": 1}, session=session
        )
        async for d in cursor:
            opened[d["agency_id"]] = opened.get(d["agency_id"], 0) + 1
            if d["due_at"] < now:
                overdue[d["agency_id"]] = overdue.get(d["agency_id"], 0) + 1
        return opened, overdue
