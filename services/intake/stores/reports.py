"""The `reports` collection: the public view of each report, its timeline and private parts.

Every query here is served by one of four indexes (besides `_id`), each bounded by time, state
or cell rather than by everything stored (`tests/perf` checks the plans; see `documents.py` for
the two index-only fields):

- `feed` (created_at, _id): listings, read in windows of creation time (`walk.py`);
- `open_cells` (sparse, multikey): the nearby and duplicate lookups, open reports only;
- `upkeep` (status, upkeep_at): the reconciler and auto-close;
- `updates` (timeline.recorded_at): Open311 status updates by the time intake stored them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from pymongo import ASCENDING, DESCENDING, IndexModel, UpdateOne
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase

from services.intake.domain.cells import cells_within, ring_radii
from services.intake.domain.filters import FeedFilter, FeedSlice, RequestFilter
from services.intake.domain.report import Report, TimelineEntry
from services.intake.domain.rules import distance_m, valid_id
from shared.events import OPEN_STATUSES, Status
from shared.mongo import Document

from .documents import (
    DERIVED,
    DERIVED_FROM,
    LIST_FIELDS,
    NEARBY_FIELDS,
    cell_key,
    derived_of_document,
    derived_update,
    entry_of,
    from_document,
    to_document,
    update_of,
)
from .walk import newest_first

REPORTS = "reports"
REPORT_INDEXES = [
    IndexModel([("created_at", DESCENDING), ("_id", DESCENDING)], name="feed"),
    IndexModel([("open_cells", ASCENDING)], name="open_cells", sparse=True),
    IndexModel([("status", ASCENDING), ("upkeep_at", ASCENDING)], name="upkeep"),
    IndexModel([("timeline.recorded_at", ASCENDING)], name="updates"),
]
# What one feed request reads at most before it answers a short page with a cursor.
FEED_MAX_READ = 2000
_OPEN = [s.value for s in OPEN_STATUSES]
# Reports the housekeeping loop may still change (its catch-up reads only these).
_NOT_CLOSED = [*_OPEN, Status.RESOLVED.value]


class ReportStore:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.col = db[REPORTS]

    async def get(self, report_id: str, session: AsyncClientSession | None = None) -> Report | None:
        if not valid_id(report_id):
            return None
        doc = await self.col.find_one({"_id": report_id}, session=session)
        return from_document(doc) if doc else None

    async def get_many(
        self, report_ids: Iterable[str], session: AsyncClientSession | None = None
    ) -> dict[str, Report]:
        """The stored reports among `report_ids`, by id, in one read."""
        ids = sorted({i for i in report_ids if valid_id(i)})
        if not ids:
            return {}
        cursor = self.col.find({"_id": {"$in": ids}}, session=session)
        return {str(d["_id"]): from_document(d) async for d in cursor}

    async def insert(self, report: Report, session: AsyncClientSession | None = None) -> None:
        await self.col.insert_one(to_document(report), session=session)

    async def save(
        self, before: Report, after: Report, session: AsyncClientSession | None = None
    ) -> None:
        """Writes what changed from `before` (as read in this session) to `after`."""
        update = update_of(before, after)
        if update:
            await self.col.update_one({"_id": before.id}, update, session=session)

    async def save_many(
        self,
        changes: Sequence[tuple[Report, Report]],
        session: AsyncClientSession | None = None,
    ) -> None:
        """`save` of several reports in one write."""
        writes = [
            UpdateOne({"_id": before.id}, update)
            for before, after in changes
            if (update := update_of(before, after))
        ]
        if writes:
            await self.col.bulk_write(writes, ordered=True, session=session)

    async def nearby(
        self, lat: float, lon: float, radius_m: float, category: str | None, limit: int
    ) -> list[Report]:
        """Open reports within `radius_m`, nearest first: the cells of a small circle first,
        widening (only the cells each step adds) until `limit` reports are known to be the
        nearest or the radius is covered. Each holds the `NEARBY_FIELDS` only (the others their
        defaults): enough for a listing and a duplicate check, never for a change."""
        found: dict[str, tuple[float, Report]] = {}
        asked: set[str] = set()
        for reach in ring_radii(radius_m):
            keys = [cell_key(c.key, category) for c in cells_within(lat, lon, reach)]
            fresh = [k for k in dict.fromkeys(keys) if k not in asked]
            asked.update(fresh)
            if fresh:
                async for doc in self.col.find({"open_cells": {"$in": fresh}}, NEARBY_FIELDS):
                    report = from_document(doc)
                    away = distance_m(lat, lon, report.lat, report.lon)
                    if away <= radius_m and _open_of(report, category):
                        found[report.id] = (away, report)
            if sum(1 for away, _ in found.values() if away <= reach) >= limit:
                break
        nearest = sorted(found.values(), key=lambda x: (x[0], x[1].id))
        return [report for _, report in nearest[:limit]]

    async def feed(
        self, where: FeedFilter, limit: int, after: tuple[datetime, str] | None
    ) -> FeedSlice:
        """Newest first, from just after the `(created_at, id)` of `after`."""
        walked = await newest_first(
            self.col,
            LIST_FIELDS,
            lambda d: where.admits(from_document(d)),
            limit,
            before=after,
            upper=where.created_to,
            upper_inclusive=False,
            lower=where.created_from,
            max_read=max(FEED_MAX_READ, 20 * limit),
        )
        return FeedSlice([from_document(d) for d in walked.docs], walked.resume)

    async def page(self, where: RequestFilter, skip: int, limit: int) -> list[Report]:
        if where.ids:  # the spec: with ids, the other filters are ignored
            ids = [i for i in where.ids if valid_id(i)]
            docs = [d async for d in self.col.find({"_id": {"$in": ids}}, LIST_FIELDS)]
            found = sorted((from_document(d) for d in docs), key=_newest, reverse=True)
            return found[skip : skip + limit]
        walked = await newest_first(
            self.col,
            LIST_FIELDS,
            lambda d: where.admits(from_document(d)),
            skip + limit,
            upper=where.end,
            lower=where.start,
        )
        return [from_document(d) for d in walked.docs[skip:]]

    async def timelines_in(
        self, start: datetime, end: datetime, limit: int
    ) -> list[tuple[str, list[TimelineEntry]]]:
        """(id, timeline) of reports with an entry stored within [start, end], by id (the
        caller keeps the entries of the window)."""
        query = {"timeline.recorded_at": {"$gte": start, "$lte": end}}
        cursor = self.col.find(query, {"_id": 1, "timeline": 1}).sort("_id", ASCENDING)
        return [
            (str(d["_id"]), [entry_of(e) for e in d.get("timeline") or []])
            async for d in cursor.limit(limit)
        ]

    async def stale_received(self, before: datetime, limit: int = 100) -> list[str]:
        """Ids of reports still `received` and last announced at or before `before`."""
        return await self._due(Status.RECEIVED, before, limit)

    async def resolved_before(self, before: datetime, limit: int = 100) -> list[str]:
        return await self._due(Status.RESOLVED, before, limit)

    async def catch_up(self) -> int:
        """Sets the index-only fields of the reports not closed yet whose document lacks them or
        holds others (written by an earlier version, restored, or copied): one read of those
        reports, one write. Returns how many were changed."""
        projection = dict.fromkeys((*DERIVED_FROM, *DERIVED, "created_at"), 1)
        writes = []
        async for doc in self.col.find({"status": {"$in": _NOT_CLOSED}}, projection):
            update = derived_update(doc, derived_of_document(doc))
            if update:
                # only if what the fields derive from is still what was read (a lifecycle
                # event may have moved the report meanwhile: its own write set them then)
                unchanged = {k: doc.get(k) for k in ("status", "announced_at", "resolved_at")}
                writes.append(UpdateOne({"_id": doc["_id"], **unchanged}, update))
        if writes:
            await self.col.bulk_write(writes, ordered=False)
        return len(writes)

    async def _due(self, status: Status, before: datetime, limit: int) -> list[str]:
        query = {"status": status.value, "upkeep_at": {"$lte": before}}
        return [d["_id"] async for d in self.col.find(query, {"_id": 1}).limit(limit)]


def _open_of(report: Report, category: str | None) -> bool:
    return report.status in OPEN_STATUSES and (category is None or report.category == category)


def _newest(report: Report) -> tuple[datetime, str]:
    return report.created_at, report.id


def report_indexes() -> dict[str, Sequence[IndexModel]]:
    return {REPORTS: REPORT_INDEXES}
