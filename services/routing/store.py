"""MongoDB adapters of routing: jurisdiction, areas (2dsphere), assignments, staff accounts."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from pymongo import ASCENDING, IndexModel
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError

from services.routing.domain.assignment import OPEN, Assignment, AState
from services.routing.domain.jurisdiction import AreaHit, Jurisdiction
from shared.mongo import Document

JURISDICTION = "jurisdiction"
AREAS = "areas"
ASSIGNMENTS = "assignments"
ACCOUNTS = "accounts"
PHOTOS_BUCKET = "photos"
CURRENT = "current"

INDEXES: dict[str, Sequence[IndexModel]] = {
    AREAS: [IndexModel([("geometry", "2dsphere")], name="geometry_2dsphere")],
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


class Conflict(Exception):
    """The assignment changed since it was read (another replica or request won)."""


class AreaRefused(Exception):
    """The database refused an area's geometry (its 2dsphere index cannot hold it)."""

    def __init__(self, area_id: str, reason: str) -> None:
        super().__init__(f"area {area_id}: {reason}")
        self.area_id = area_id
        self.reason = reason


def _refusal(errmsg: str) -> str:
    """The reason of a geo-key refusal without the document mongod quotes before it."""
    tail = errmsg.rsplit("}", 1)[-1].strip(" .:") if "}" in errmsg else ""
    return (tail or errmsg)[:300]


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


class RoutingStore:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.db = db
        self.assignments = db[ASSIGNMENTS]

    # ---------------------------------------------------------------- jurisdiction

    async def jurisdiction(self, session: AsyncClientSession | None = None) -> Jurisdiction | None:
        doc = await self.db[JURISDICTION].find_one({"_id": CURRENT}, session=session)
        return Jurisdiction.model_validate(doc["document"]) if doc else None

    async def save_jurisdiction(self, j: Jurisdiction, session: AsyncClientSession) -> None:
        """Replaces the document and its areas in the caller's transaction."""
        await self.db[JURISDICTION].replace_one(
            {"_id": CURRENT},
            {"_id": CURRENT, "version": j.version, "document": j.model_dump(mode="json")},
            upsert=True,
            session=session,
        )
        await self.db[AREAS].delete_many({}, session=session)
        if not j.areas:
            return
        try:
            await self.db[AREAS].insert_many(
                [
                    {"_id": a.id, "level": a.level, "geometry": a.geometry, "version": j.version}
                    for a in j.areas
                ],
                ordered=True,
                session=session,
            )
        except BulkWriteError as exc:
            # A document-level write error on an area: its geometry (ids are unique by then).
            first = (exc.details.get("writeErrors") or [{}])[0]
            index = first.get("index")
            area = (
                j.areas[index].id if isinstance(index, int) and 0 <= index < len(j.areas) else "?"
            )
            raise AreaRefused(area, _refusal(str(first.get("errmsg", exc)))) from exc

    async def areas_containing(self, lon: float, lat: float) -> list[AreaHit]:
        point = {"type": "Point", "coordinates": [lon, lat]}
        cursor = self.db[AREAS].find(
            {"geometry": {"$geoIntersects": {"$geometry": point}}}, {"level": 1}
        )
        return [AreaHit(d["_id"], d["level"]) async for d in cursor]

    # ---------------------------------------------------------------- assignments

    async def get(
        self, assignment_id: str, session: AsyncClientSession | None = None
    ) -> tuple[Assignment, int] | None:
        doc = await self.assignments.find_one({"_id": assignment_id}, session=session)
        return from_doc(doc) if doc else None

    async def by_report(
        self, report_id: str, session: AsyncClientSession | None = None
    ) -> tuple[Assignment, int] | None:
        doc = await self.assignments.find_one({"report_id": report_id}, session=session)
        return from_doc(doc) if doc else None

    async def insert(self, a: Assignment, session: AsyncClientSession) -> None:
        await self.assignments.insert_one(to_doc(a, 1), session=session)

    async def save(self, a: Assignment, rev: int, session: AsyncClientSession) -> None:
        """Optimistic write: fails with `Conflict` if someone else saved it since `rev`."""
        res = await self.assignments.replace_one(
            {"_id": a.id, "rev": rev}, to_doc(a, rev + 1), session=session
        )
        if res.matched_count != 1:
            raise Conflict(a.id)

    async def duplicates_of(
        self, report_id: str, session: AsyncClientSession
    ) -> list[tuple[Assignment, int]]:
        cursor = self.assignments.find(
            {"duplicate_of": report_id, "status": AState.DUPLICATE.value}, session=session
        )
        return [from_doc(d) async for d in cursor]

    async def query(
        self,
        *,
        agency_id: str | None,
        statuses: list[str] | None,
        category: str | None,
        report_id: str | None,
        limit: int,
        overdue: bool | None = None,
        now: datetime | None = None,
    ) -> list[Assignment]:
        """Filters in the query, before the limit. `overdue` (with `now`): open and past due
        (true), or not (false), as `Assignment.overdue`."""
        flt: dict[str, Any] = {}
        if agency_id is not None:
            flt["agency_id"] = agency_id
        if statuses:
            flt["status"] = {"$in": statuses}
        if category:
            flt["category"] = category
        if report_id:
            flt["report_id"] = report_id
        if overdue is not None:
            if now is None:
                raise ValueError("the overdue filter needs `now`")
            late = {"status": {"$in": OPEN_VALUES}, "due_at": {"$lt": now}}
            not_late = {"$or": [{"status": {"$nin": OPEN_VALUES}}, {"due_at": {"$gte": now}}]}
            flt = {"$and": [flt, late if overdue else not_late]}
        cursor = self.assignments.find(flt).sort("due_at", ASCENDING).limit(limit)
        return [from_doc(d)[0] async for d in cursor]

    async def overdue_ids(self, now: datetime) -> list[str]:
        cursor = self.assignments.find(
            {"status": {"$in": OPEN_VALUES}, "due_at": {"$lt": now}},
            {"due_at": 1, "escalated_due": 1},
        )
        return [d["_id"] async for d in cursor if d.get("escalated_due") != d["due_at"]]

    async def open_counts(self, now: datetime) -> tuple[dict[str, int], dict[str, int]]:
        """(open, overdue) assignments per agency."""
        opened: dict[str, int] = {}
        overdue: dict[str, int] = {}
        cursor = self.assignments.find(
            {"status": {"$in": OPEN_VALUES}}, {"agency_id": 1, "due_at": 1}
        )
        async for d in cursor:
            opened[d["agency_id"]] = opened.get(d["agency_id"], 0) + 1
            if d["due_at"] < now:
                overdue[d["agency_id"]] = overdue.get(d["agency_id"], 0) + 1
        return opened, overdue

    # ---------------------------------------------------------------- accounts

    async def account(self, username: str) -> Document | None:
        return await self.db[ACCOUNTS].find_one({"_id": username})

    async def add_account_if_absent(self, doc: Document) -> None:
        await self.db[ACCOUNTS].update_one({"_id": doc["_id"]}, {"$setOnInsert": doc}, upsert=True)

    async def put_account(self, doc: Document) -> None:
        await self.db[ACCOUNTS].replace_one({"_id": doc["_id"]}, doc, upsert=True)

    async def delete_account(self, username: str) -> bool:
        return (await self.db[ACCOUNTS].delete_one({"_id": username})).deleted_count == 1

    async def accounts(self) -> list[Document]:
        return [d async for d in self.db[ACCOUNTS].find({}, {"password_hash": 0}).sort("_id", 1)]

    async def account_ids(self) -> set[str]:
        return {d["_id"] async for d in self.db[ACCOUNTS].find({}, {"_id": 1})}
