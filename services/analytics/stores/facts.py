"""The facts collection: one document per report, and the aggregations every statistic reads."""

from __future__ import annotations

import contextlib
from dataclasses import asdict, fields
from datetime import datetime
from typing import Any

from pymongo import ASCENDING, IndexModel
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from services.analytics.domain.facts import DONE_STATUSES, UNDER_DEADLINE, Fact
from services.analytics.domain.figures import Breakdown, CellCount, Group, Totals
from services.analytics.domain.stats import Filters, Interval
from shared.events import OPEN_STATUSES
from shared.mongo import Document

FACTS = "facts"
FACTS_INDEXES = [
    IndexModel([("created_day", ASCENDING)], name="by_created_day"),
    IndexModel([("agency_id", ASCENDING), ("status", ASCENDING)], name="by_agency_status"),
    IndexModel([("category", ASCENDING)], name="by_category"),
    IndexModel([("area_id", ASCENDING)], name="by_area"),
]

_DONE = sorted(str(s) for s in DONE_STATUSES)
_OPEN = sorted(str(s) for s in OPEN_STATUSES)
_ACTIVE = sorted(str(s) for s in UNDER_DEADLINE)


class FactStore:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.col = db[FACTS]

    async def save(self, fact: Fact, session: AsyncClientSession | None = None) -> None:
        """Replaces the fact unless a fact from more events is already there."""
        doc = asdict(fact)
        doc = {"_id": doc.pop("report_id"), **doc}
        # DuplicateKeyError: a newer fact (computed from more events) is stored; keep it.
        with contextlib.suppress(DuplicateKeyError):
            await self.col.replace_one(
                {"_id": fact.report_id, "n_events": {"$lte": fact.n_events}},
                doc,
                upsert=True,
                session=session,
            )


def match(filters: Filters, day_field: str = "created_day") -> dict[str, Any]:
    """The `$match` of `filters`; the date range applies to `day_field`."""
    query: dict[str, Any] = {}
    days: dict[str, str] = {}
    if filters.date_from:
        days["$gte"] = filters.date_from.isoformat()
    if filters.date_to:
        days["$lte"] = filters.date_to.isoformat()
    if days:
        query[day_field] = days
    for name, values in (
        ("category", filters.categories),
        ("agency_id", filters.agencies),
        ("area_id", filters.areas),
    ):
        if values:
            query[name] = values[0] if len(values) == 1 else {"$in": list(values)}
    return query


def _dated(filters: Filters, day_field: str) -> dict[str, Any]:
    """The filters with the date range on `day_field`, which must be set."""
    query = match(filters, day_field)
    query[day_field] = {"$ne": None, **query.get(day_field, {})}
    return query


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


def _deadline_known() -> dict[str, Any]:
    return {"$and": [_done(), {"$in": ["$on_time", [True, False]]}]}


def _counted(now: datetime) -> dict[str, Any]:
    """The counts a summary and a group share."""
    return {
        "resolved": _count_if(_done()),
        "on_time": _count_if({"$eq": ["$on_time", True]}),
        "deadline_known": _count_if(_deadline_known()),
        "overdue": _count_if(_overdue(now)),
    }


def _totals(now: datetime) -> dict[str, Any]:
    return {
        "_id": None,
        "total": {"$sum": 1},
        "assign_sum": {"$sum": "$time_to_assign_s"},
        "assign_n": _count_if({"$gt": ["$time_to_assign_s", None]}),
        "resolve_sum": {"$sum": "$time_to_resolve_s"},
        "resolve_n": _count_if({"$gt": ["$time_to_resolve_s", None]}),
        **_counted(now),
        "open": _count_if({"$in": ["$status", _OPEN]}),
        "rating_sum": {"$sum": "$rating"},
        "rating_n": _count_if({"$gt": ["$rating", None]}),
        "escalations": {"$sum": "$escalations"},
        "reopened": {"$sum": "$reopen_count"},
    }


def _counts(docs: list[Document]) -> dict[Any, int]:
    return {d["_id"]: d["n"] for d in docs}


class FactQueries:
    """The aggregations over facts, mapped to the figures of `domain/figures.py`."""

    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.col = db[FACTS]

    async def _aggregate(self, pipeline: list[dict[str, Any]]) -> list[Document]:
        return await (await self.col.aggregate(pipeline)).to_list()

    async def summary(self, filters: Filters, now: datetime) -> tuple[Totals, Breakdown]:
        facets = {
            "by_status": [{"$group": {"_id": "$status", "n": {"$sum": 1}}}],
            "by_category": [{"$group": {"_id": "$category", "n": {"$sum": 1}}}],
            "by_agency": [
                {"$match": {"agency_id": {"$ne": None}}},
                {"$group": {"_id": "$agency_id", "n": {"$sum": 1}}},
            ],
            "totals": [{"$group": _totals(now)}],
        }
        [raw] = await self._aggregate([{"$match": match(filters)}, {"$facet": facets}])
        t = (raw["totals"] or [{}])[0]
        totals = Totals(**{f.name: t[f.name] for f in fields(Totals) if f.name in t})
        breakdown = Breakdown(
            _counts(raw["by_status"]), _counts(raw["by_category"]), _counts(raw["by_agency"])
        )
        return totals, breakdown

    async def by_agency(self, filters: Filters, now: datetime) -> list[Group]:
        return await self._grouped("$agency_id", filters, now, {"agency_id": {"$ne": None}})

    async def by_category(self, filters: Filters, now: datetime) -> list[Group]:
        return await self._grouped("$category", filters, now, {"category": {"$ne": None}})

    async def _grouped(
        self, key: str, filters: Filters, now: datetime, extra: dict[str, Any]
    ) -> list[Group]:
        group = {
            "_id": key,
            "received": {"$sum": 1},
            **_counted(now),
            "backlog": _count_if({"$in": ["$status", _OPEN]}),
            "mean_rating": {"$avg": "$rating"},
            "fallback_name": {"$max": "$agency_name"},
            "durations": {"$push": "$time_to_resolve_s"},
        }
        docs = await self._aggregate([{"$match": {**match(filters), **extra}}, {"$group": group}])
        return [
            Group(
                key=d["_id"],
                received=d["received"],
                resolved=d["resolved"],
                on_time=d["on_time"],
                deadline_known=d["deadline_known"],
                backlog=d["backlog"],
                overdue=d["overdue"],
                mean_rating=d.get("mean_rating"),
                fallback_name=d.get("fallback_name"),
                durations=tuple(d.get("durations", [])),
            )
            for d in docs
        ]

    async def series(
        self, filters: Filters, interval: Interval
    ) -> tuple[dict[str, int], dict[str, int]]:
        """Reports created per bucket and reports resolved per bucket (each by its own day)."""
        created = await self._aggregate(
            [
                {"$match": _dated(filters, "created_day")},
                {"$group": {"_id": f"$created_{interval}", "n": {"$sum": 1}}},
            ]
        )
        resolved = await self._aggregate(
            [
                {"$match": _dated(filters, "resolved_day")},
                {"$group": {"_id": f"$resolved_{interval}", "n": {"$sum": 1}}},
            ]
        )
        return _counts(created), _counts(resolved)

    async def grid(self, filters: Filters, cell: float, limit: int) -> tuple[list[CellCount], int]:
        """Counts per cell of `cell` degrees (largest first, at most `limit`) and the cell total."""
        pipeline = [
            {"$match": {**match(filters), "lat": {"$ne": None}, "lon": {"$ne": None}}},
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
        docs = await self._aggregate(pipeline)
        docs.sort(key=lambda d: (-d["n"], d["_id"]["iy"], d["_id"]["ix"]))
        cells = [CellCount(int(d["_id"]["ix"]), int(d["_id"]["iy"]), d["n"]) for d in docs]
        return cells[:limit], len(cells)
