"""MongoDB adapters: the event log per report, the dirty queue, the facts and the catalogue.

Collections (all in analytics' own database):
- `events`: every event received, `_id` = event id (so a duplicate is a no-op), keyed by report.
- `dirty`: reports whose fact must be recomputed; `token` = id of the last event recorded.
- `facts`: one document per report (see `domain/facts.py`), written only by the projector and
  never replaced by a fact computed from fewer events (`n_events` guard).
- `catalog`: the latest `jurisdiction.catalog` (names of agencies and categories).
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from pymongo import ASCENDING, IndexModel
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from services.analytics.domain.facts import DONE_STATUSES, OPEN_STATUSES, Recorded
from services.analytics.domain.stats import Filters, Interval
from shared.mongo import Document

EVENTS, DIRTY, FACTS, CATALOG = "events", "dirty", "facts", "catalog"
CATALOG_ID = "catalog"

INDEXES: dict[str, Sequence[IndexModel]] = {
    EVENTS: [IndexModel([("report", ASCENDING)], name="by_report")],
    FACTS: [
        IndexModel([("created_day", ASCENDING)], name="by_created_day"),
        IndexModel([("agency_id", ASCENDING), ("status", ASCENDING)], name="by_agency_status"),
        IndexModel([("category", ASCENDING)], name="by_category"),
        IndexModel([("area_id", ASCENDING)], name="by_area"),
    ],
}

_DONE = [str(s) for s in DONE_STATUSES]
_OPEN = [str(s) for s in OPEN_STATUSES]
_ACTIVE = ["assigned", "in_progress"]  # open and under an agency's deadline

# Payload fields analytics never needs; they are not kept (the sealed contact above all).
_DROPPED = ("contact_sealed", "description", "photo_urls", "attributes", "address", "note")


def _count_if(condition: Any) -> dict[str, Any]:
    return {"$sum": {"$cond": [condition, 1, 0]}}


def _done() -> dict[str, Any]:
    return {"$in": ["$status", _DONE]}


def _overdue(now: datetime) -> dict[str, Any]:
    return {
        "$and": [
            {"$in": ["$status", _ACTIVE]},
            {"$gt": ["$due_at", None]},
            {"$lt": ["$due_at", now]},
        ]
    }


def _dated(filters: Filters, day_field: str) -> dict[str, Any]:
    """The filters with the date range on `day_field`, which must be set."""
    query = filters.match(day_field)
    query[day_field] = {"$ne": None, **query.get(day_field, {})}
    return query


def _deadline_known() -> dict[str, Any]:
    return {"$and": [_done(), {"$in": ["$on_time", [True, False]]}]}


class AnalyticsStore:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.db = db

    # ------------------------------------------------------------------ writes (event side)

    async def record(
        self,
        topic: str,
        event_id: str,
        report_id: str,
        source: str,
        sequence: int,
        time: datetime,
        data: Mapping[str, Any],
        session: AsyncClientSession | None,
    ) -> None:
        """Keeps the event (idempotently) and marks its report for re-projection."""
        kept = {k: v for k, v in data.items() if k not in _DROPPED}
        doc = {
            "report": report_id,
            "topic": topic,
            "source": source,
            "sequence": sequence,
            "time": time,
            "data": kept,
        }
        await self.db[EVENTS].update_one(
            {"_id": event_id}, {"$setOnInsert": doc}, upsert=True, session=session
        )
        await self.db[DIRTY].update_one(
            {"_id": report_id}, {"$set": {"token": event_id}}, upsert=True, session=session
        )

    async def save_catalog(
        self, version: int, doc: dict[str, Any], session: AsyncClientSession | None
    ) -> bool:
        """Stores the catalogue if newer than the one kept; an older version is ignored."""
        current = await self.db[CATALOG].find_one({"_id": CATALOG_ID}, session=session)
        if current is not None and current.get("version", 0) >= version:
            return False
        await self.db[CATALOG].replace_one(
            {"_id": CATALOG_ID}, {**doc, "version": version}, upsert=True, session=session
        )
        return True

    async def catalog(self) -> dict[str, Any]:
        return await self.db[CATALOG].find_one({"_id": CATALOG_ID}) or {}

    # ------------------------------------------------------------------ projector side

    async def dirty_batch(self, limit: int) -> list[Document]:
        return await self.db[DIRTY].find().limit(limit).to_list()

    async def pending_count(self) -> int:
        return await self.db[DIRTY].count_documents({})

    async def events_of(self, report_id: str) -> list[Recorded]:
        docs = await self.db[EVENTS].find({"report": report_id}).to_list()
        return [
            Recorded(d["_id"], d["topic"], d["source"], d["sequence"], d["time"], d["data"])
            for d in docs
        ]

    async def save_fact(self, fact: dict[str, Any]) -> None:
        """Replaces the fact unless a fact from more events is already there."""
        # DuplicateKeyError: a newer fact (computed from more events) is stored; keep it.
        with contextlib.suppress(DuplicateKeyError):
            await self.db[FACTS].replace_one(
                {"_id": fact["_id"], "n_events": {"$lte": fact["n_events"]}}, fact, upsert=True
            )

    async def clear_dirty(self, report_id: str, token: str) -> None:
        """Clears the mark unless an event arrived meanwhile (then the report is projected again)."""
        await self.db[DIRTY].delete_one({"_id": report_id, "token": token})

    async def facts(self) -> list[Document]:
        return await self.db[FACTS].find().sort("_id", ASCENDING).to_list()

    # ------------------------------------------------------------------ statistics

    async def _aggregate(self, pipeline: list[dict[str, Any]]) -> list[Document]:
        return await (await self.db[FACTS].aggregate(pipeline)).to_list()

    async def summary(self, filters: Filters, now: datetime) -> Document:
        pipeline = [
            {"$match": filters.match()},
            {
                "$facet": {
                    "by_status": [{"$group": {"_id": "$status", "n": {"$sum": 1}}}],
                    "by_category": [{"$group": {"_id": "$category", "n": {"$sum": 1}}}],
                    "by_agency": [
                        {"$match": {"agency_id": {"$ne": None}}},
                        {"$group": {"_id": "$agency_id", "n": {"$sum": 1}}},
                    ],
                    "totals": [
                        {
                            "$group": {
                                "_id": None,
                                "total": {"$sum": 1},
                                "assign_sum": {"$sum": "$time_to_assign_s"},
                                "assign_n": _count_if({"$gt": ["$time_to_assign_s", None]}),
                                "resolve_sum": {"$sum": "$time_to_resolve_s"},
                                "resolve_n": _count_if({"$gt": ["$time_to_resolve_s", None]}),
                                "resolved": _count_if(_done()),
                                "on_time": _count_if({"$eq": ["$on_time", True]}),
                                "deadline_known": _count_if(_deadline_known()),
                                "open": _count_if({"$in": ["$status", _OPEN]}),
                                "overdue": _count_if(_overdue(now)),
                                "rating_sum": {"$sum": "$rating"},
                                "rating_n": _count_if({"$gt": ["$rating", None]}),
                                "escalations": {"$sum": "$escalations"},
                                "reopened": {"$sum": "$reopen_count"},
                            }
                        }
                    ],
                }
            },
        ]
        [result] = await self._aggregate(pipeline)
        return result

    async def by_agency(self, filters: Filters, now: datetime) -> list[Document]:
        return await self._grouped("$agency_id", filters, now, {"agency_id": {"$ne": None}})

    async def by_category(self, filters: Filters, now: datetime) -> list[Document]:
        return await self._grouped("$category", filters, now, {"category": {"$ne": None}})

    async def _grouped(
        self, key: str, filters: Filters, now: datetime, extra: dict[str, Any]
    ) -> list[Document]:
        pipeline = [
            {"$match": {**filters.match(), **extra}},
            {
                "$group": {
                    "_id": key,
                    "received": {"$sum": 1},
                    "resolved": _count_if(_done()),
                    "on_time": _count_if({"$eq": ["$on_time", True]}),
                    "deadline_known": _count_if(_deadline_known()),
                    "backlog": _count_if({"$in": ["$status", _OPEN]}),
                    "overdue": _count_if(_overdue(now)),
                    "mean_rating": {"$avg": "$rating"},
                    "fallback_name": {"$max": "$agency_name"},
                    "resolve_sum": {"$sum": "$time_to_resolve_s"},
                    "durations": {"$push": "$time_to_resolve_s"},
                }
            },
        ]
        return await self._aggregate(pipeline)

    async def series(
        self, filters: Filters, interval: Interval
    ) -> tuple[dict[str, int], dict[str, int]]:
        """Reports created per bucket and reports resolved per bucket (each by its own day)."""
        created_key, resolved_key = f"$created_{interval}", f"$resolved_{interval}"
        created = await self._aggregate(
            [
                {"$match": _dated(filters, "created_day")},
                {"$group": {"_id": created_key, "n": {"$sum": 1}}},
            ]
        )
        resolved = await self._aggregate(
            [
                {"$match": _dated(filters, "resolved_day")},
                {"$group": {"_id": resolved_key, "n": {"$sum": 1}}},
            ]
        )
        return ({d["_id"]: d["n"] for d in created}, {d["_id"]: d["n"] for d in resolved})

    async def grid(self, filters: Filters, cell: float, limit: int) -> tuple[list[Document], int]:
        """Counts per cell of `cell` degrees (largest first, at most `limit`) and the cell total."""
        pipeline = [
            {"$match": {**filters.match(), "lat": {"$ne": None}, "lon": {"$ne": None}}},
            {
                "$group": {
                    "_id": {
                        "iy": {"$floor": {"$divide": ["$lat", cell]}},
                        "ix": {"$floor": {"$divide": ["$lon", cell]}},
                    },
                    "n": {"$sum": 1},
                }
            },
        ]
        cells = await self._aggregate(pipeline)
        cells.sort(key=lambda d: (-d["n"], d["_id"]["iy"], d["_id"]["ix"]))
        return cells[:limit], len(cells)
