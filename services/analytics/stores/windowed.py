"""Statistics of a date window, aggregated over the facts of its days.

Every pipeline starts with a `$match` on the indexed day range alone (`created_day`), so the
database reads only the window's facts; the other filters follow in a second `$match`.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import fields
from datetime import datetime
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from services.analytics.domain.corrections import Corrected
from services.analytics.domain.facts import DONE_STATUSES, UNDER_DEADLINE
from services.analytics.domain.figures import Breakdown, CellCount, Group, Totals
from services.analytics.domain.stats import Filters
from services.analytics.stores.facts import FACTS
from shared.events import OPEN_STATUSES
from shared.mongo import Document

_DONE = sorted(str(s) for s in DONE_STATUSES)
_OPEN = sorted(str(s) for s in OPEN_STATUSES)
_ACTIVE = sorted(str(s) for s in UNDER_DEADLINE)
# Every day, through the day index: a heat grid of a cell size the rollups do not keep reads
# every fact with a creation day (a report has a location only from its creation, or from a
# reopening: one reopened before its creation arrived is left out until it does).
EVERY_DAY = {"created_day": {"$gte": ""}}
# What a corrected report contributes: created as, chosen by, now, under.
_CORRECTION = ("original_category", "category_chosen_by", "category", "agency_id")


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


def _stages(filters: Filters, first: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """The indexed range first (`created_day` unless `first` is given), then the rest."""
    query = match(filters)
    # Both bounds, always: a range open below would scan the index from the facts without a day.
    days = (
        {"created_day": {"$gte": "", **query.pop("created_day")}} if "created_day" in query else {}
    )
    if first is None and not days:
        raise ValueError("not a date window: read the rollups (stores/queries.py)")
    stages = [{"$match": first if first is not None else days}]
    if first is not None:
        query |= days
    return stages + ([{"$match": query}] if query else [])


class WindowedQueries:
    """The aggregations over the facts of a date window (`Filters.windowed`)."""

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
        [raw] = await self._aggregate([*_stages(filters), {"$facet": facets}])
        t = (raw["totals"] or [{}])[0]
        totals = Totals(**{f.name: t[f.name] for f in fields(Totals) if f.name in t})
        breakdown = Breakdown(
            _counts(raw["by_status"]), _counts(raw["by_category"]), _counts(raw["by_agency"])
        )
        return totals, breakdown

    async def grouped(
        self, by: str, filters: Filters, now: datetime, with_times: bool
    ) -> list[Group]:
        """One group per agency (`by` = "agency_id") or category; resolve times if asked."""
        group: dict[str, Any] = {
            "_id": f"${by}",
            "received": {"$sum": 1},
            **_counted(now),
            "backlog": _count_if({"$in": ["$status", _OPEN]}),
            "mean_rating": {"$avg": "$rating"},
            "fallback_name": {"$max": "$agency_name"},
        }
        if with_times:
            group["durations"] = {"$push": "$time_to_resolve_s"}
        pipeline = [*_stages(filters), {"$match": {by: {"$ne": None}}}, {"$group": group}]
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
            for d in await self._aggregate(pipeline)
        ]

    async def grid(self, filters: Filters, cell: float) -> list[CellCount]:
        """Counts per cell of `cell` degrees, largest first (of every day when not windowed)."""
        first = None if filters.windowed else EVERY_DAY
        pipeline = [
            *_stages(filters, first),
            {"$match": {"lat": {"$ne": None}, "lon": {"$ne": None}}},
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
        return [CellCount(int(d["_id"]["ix"]), int(d["_id"]["iy"]), d["n"]) for d in docs]

    async def corrections(self, filters: Filters) -> tuple[list[Corrected], Counter[str | None]]:
        """The window's corrected reports and its count per current category."""
        facets = {
            "now_in": [{"$group": {"_id": "$category", "n": {"$sum": 1}}}],
            "corrected": [
                {"$match": {"recategorized": {"$gt": 0}}},
                {"$project": {"_id": 0, **{f: 1 for f in _CORRECTION}}},
            ],
        }
        [raw] = await self._aggregate([*_stages(filters), {"$facet": facets}])
        merged: Counter[tuple[str, str | None, str | None, str | None]] = Counter()
        for d in raw["corrected"]:
            source, chosen_by, now, agency = (d.get(f) for f in _CORRECTION)
            if source is not None and source != now:
                merged[(source, chosen_by, now, agency)] += 1
        return [Corrected(*k, n) for k, n in merged.items()], Counter(_counts(raw["now_in"]))
