"""The `reports` collection: the public view of each report, its timeline and private parts."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from pymongo import ASCENDING, DESCENDING, GEOSPHERE, IndexModel
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase

from services.intake.domain.filters import FeedFilter, RequestFilter
from services.intake.domain.report import Report, TimelineEntry
from services.intake.domain.rules import valid_id
from shared.events import OPEN_STATUSES, Status
from shared.mongo import Document

from .documents import LIST_FIELDS, entry_of, from_document, to_document, update_of

REPORTS = "reports"
REPORT_INDEXES = [
    IndexModel([("location", GEOSPHERE)], name="location_2dsphere"),
    IndexModel([("created_at", DESCENDING), ("_id", DESCENDING)], name="feed"),
    IndexModel([("status", ASCENDING), ("created_at", DESCENDING)], name="by_status"),
    IndexModel([("category", ASCENDING), ("created_at", DESCENDING)], name="by_category"),
    IndexModel([("agency_id", ASCENDING), ("created_at", DESCENDING)], name="by_agency"),
    IndexModel([("status", ASCENDING), ("announced_at", ASCENDING)], name="reconcile"),
    IndexModel([("status", ASCENDING), ("resolved_at", ASCENDING)], name="autoclose"),
    # Open311 servicerequestupdates: timeline entries by the time intake stored them
    IndexModel([("timeline.recorded_at", ASCENDING)], name="updates"),
    IndexModel([("timeline.at", ASCENDING)], name="updates_legacy"),
]
_NEWEST_FIRST = [("created_at", DESCENDING), ("_id", DESCENDING)]
_OPEN = [s.value for s in OPEN_STATUSES]


class ReportStore:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.col = db[REPORTS]

    async def get(self, report_id: str, session: AsyncClientSession | None = None) -> Report | None:
        if not valid_id(report_id):
            return None
        doc = await self.col.find_one({"_id": report_id}, session=session)
        return from_document(doc) if doc else None

    async def insert(self, report: Report, session: AsyncClientSession | None = None) -> None:
        await self.col.insert_one(to_document(report), session=session)

    async def save(
        self, before: Report, after: Report, session: AsyncClientSession | None = None
    ) -> None:
        """Writes what changed from `before` (as read in this session) to `after`."""
        update = update_of(before, after)
        if update:
            await self.col.update_one({"_id": before.id}, update, session=session)

    async def nearby(
        self, lat: float, lon: float, radius_m: float, category: str | None, limit: int
    ) -> list[Report]:
        """Open reports within `radius_m`, nearest first."""
        query: dict[str, Any] = {
            "location": {
                "$near": {
                    "$geometry": {"type": "Point", "coordinates": [lon, lat]},
                    "$maxDistance": radius_m,
                }
            },
            "status": {"$in": _OPEN},
        }
        if category:
            query["category"] = category
        return await self._list(self.col.find(query, LIST_FIELDS).limit(limit))

    async def feed(
        self, where: FeedFilter, limit: int, after: tuple[datetime, str] | None
    ) -> list[Report]:
        """Newest first, from just after the `(created_at, id)` of `after`."""
        query = _feed_query(where)
        if after is not None:
            at, rid = after
            query["$or"] = [{"created_at": {"$lt": at}}, {"created_at": at, "_id": {"$lt": rid}}]
        return await self._list(self.col.find(query, LIST_FIELDS).sort(_NEWEST_FIRST).limit(limit))

    async def page(self, where: RequestFilter, skip: int, limit: int) -> list[Report]:
        cursor = self.col.find(_request_query(where), LIST_FIELDS).sort(_NEWEST_FIRST)
        return await self._list(cursor.skip(skip).limit(limit))

    async def timelines_in(
        self, start: datetime, end: datetime, limit: int
    ) -> list[tuple[str, list[TimelineEntry]]]:
        """(id, timeline) of reports with an entry stored within [start, end] (entries older
        than `recorded_at`: by their event time), by id."""
        window = {"$gte": start, "$lte": end}
        query = {
            "$or": [
                {"timeline": {"$elemMatch": {"recorded_at": window}}},
                {"timeline": {"$elemMatch": {"recorded_at": None, "at": window}}},
            ]
        }
        cursor = self.col.find(query, {"_id": 1, "timeline": 1}).sort("_id", ASCENDING)
        return [
            (str(d["_id"]), [entry_of(e) for e in d.get("timeline") or []])
            async for d in cursor.limit(limit)
        ]

    async def stale_received(self, before: datetime, limit: int = 100) -> list[str]:
        """Ids of reports still `received` and last announced at or before `before`."""
        query = {"status": Status.RECEIVED.value, "announced_at": {"$lte": before}}
        return [d["_id"] async for d in self.col.find(query, {"_id": 1}).limit(limit)]

    async def resolved_before(self, before: datetime, limit: int = 100) -> list[str]:
        query = {"status": Status.RESOLVED.value, "resolved_at": {"$lte": before}}
        return [d["_id"] async for d in self.col.find(query, {"_id": 1}).limit(limit)]

    @staticmethod
    async def _list(cursor: Any) -> list[Report]:
        return [from_document(d) async for d in cursor]


def _feed_query(where: FeedFilter) -> dict[str, Any]:
    query: dict[str, Any] = {}
    if where.status:
        query["status"] = where.status.value
    if where.category:
        query["category"] = where.category
    if where.agency_id:
        query["agency_id"] = where.agency_id
    if where.bbox:
        box = where.bbox
        query["lat"] = {"$gte": box.min_lat, "$lte": box.max_lat}
        query["lon"] = {"$gte": box.min_lon, "$lte": box.max_lon}
    if where.created_from or where.created_to:
        query["created_at"] = {
            **({"$gte": where.created_from} if where.created_from else {}),
            **({"$lt": where.created_to} if where.created_to else {}),
        }
    return query


def _request_query(where: RequestFilter) -> dict[str, Any]:
    if where.ids:  # the spec: with ids, the other filters are ignored
        return {"_id": {"$in": [i for i in where.ids if valid_id(i)]}}
    query: dict[str, Any] = {}
    if where.codes:
        query["category"] = {"$in": list(where.codes)}
    query["created_at"] = {
        **({"$gte": where.start} if where.start else {}),
        **({"$lte": where.end} if where.end else {}),
    }
    if where.open is not None:
        query["status"] = {"$in": _OPEN if where.open else _closed()}
    return query


def _closed() -> list[str]:
    return [s.value for s in Status if s not in OPEN_STATUSES]


def report_indexes() -> dict[str, Sequence[IndexModel]]:
    return {REPORTS: REPORT_INDEXES}
