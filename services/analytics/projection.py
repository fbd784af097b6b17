"""Application services: the projector loop (events -> facts), statistics and business gauges."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, tzinfo
from typing import Any

from prometheus_client import CollectorRegistry, Gauge

from services.analytics.domain import stats
from services.analytics.domain.catalog import agency_name, category_name
from services.analytics.domain.facts import build_fact
from services.analytics.domain.stats import Filters, Interval
from services.analytics.store import AnalyticsStore
from shared.aio import wait_any
from shared.events import utcnow

log = logging.getLogger(__name__)


class Projector:
    """Recomputes the fact of every report marked dirty, from all of that report's events."""

    def __init__(
        self, store: AnalyticsStore, tz: tzinfo, *, interval_s: float, batch_size: int
    ) -> None:
        self.store = store
        self.tz = tz
        self.interval_s = interval_s
        self.batch_size = batch_size
        self._wake = asyncio.Event()

    def poke(self) -> None:
        self._wake.set()

    async def run_once(self) -> int:
        """Projects one batch of dirty reports; returns how many it projected."""
        batch = await self.store.dirty_batch(self.batch_size)
        for mark in batch:
            report_id = mark["_id"]
            events = await self.store.events_of(report_id)
            if events:
                await self.store.save_fact(build_fact(report_id, events, self.tz))
            await self.store.clear_dirty(report_id, mark["token"])
        return len(batch)

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                if await self.run_once() >= self.batch_size:
                    continue  # more are waiting: no pause
            except Exception as exc:  # the database may be briefly away; the marks stay
                log.warning("projection pass failed: %r", exc)
            self._wake.clear()
            await wait_any(stop, self._wake, timeout=self.interval_s)


class Statistics:
    """Every statistic the API and the dashboard show, from MongoDB aggregations over facts."""

    def __init__(self, store: AnalyticsStore) -> None:
        self.store = store

    async def summary(
        self, filters: Filters, lang: str, now: datetime | None = None
    ) -> dict[str, Any]:
        raw = await self.store.summary(filters, now or utcnow())
        catalog = await self.store.catalog()
        t = (raw["totals"] or [{}])[0]
        names = {d["_id"]: agency_name(catalog, d["_id"], lang, None) for d in raw["by_agency"]}
        return {
            "total": t.get("total", 0),
            "by_status": {d["_id"]: d["n"] for d in raw["by_status"]},
            "by_category": {d["_id"]: d["n"] for d in raw["by_category"] if d["_id"] is not None},
            "by_agency": {d["_id"]: d["n"] for d in raw["by_agency"]},
            "agency_names": names,
            "mean_time_to_assign_s": stats.rounded(
                stats.mean(t.get("assign_sum"), t.get("assign_n", 0))
            ),
            "mean_time_to_resolve_s": stats.rounded(
                stats.mean(t.get("resolve_sum"), t.get("resolve_n", 0))
            ),
            "resolved": t.get("resolved", 0),
            "resolved_on_time_pct": stats.pct(t.get("on_time", 0), t.get("deadline_known", 0)),
            "open": t.get("open", 0),
            "overdue_now": t.get("overdue", 0),
            "mean_rating": stats.rounded(stats.mean(t.get("rating_sum"), t.get("rating_n", 0)), 2),
            "ratings": t.get("rating_n", 0),
            "escalations": t.get("escalations", 0),
            "reopened": t.get("reopened", 0),
        }

    async def scoreboard(
        self,
        filters: Filters,
        lang: str,
        sort: str = "resolved_on_time_pct",
        descending: bool = True,
        now: datetime | None = None,
    ) -> list[dict[str, Any]]:
        groups = await self.store.by_agency(filters, now or utcnow())
        catalog = await self.store.catalog()
        rows = [
            stats.scoreboard_row(g, agency_name(catalog, g["_id"], lang, g.get("fallback_name")))
            for g in groups
        ]
        return stats.sort_rows(rows, sort, descending, "agency_id")

    async def categories(
        self, filters: Filters, lang: str, now: datetime | None = None
    ) -> list[dict[str, Any]]:
        groups = await self.store.by_category(filters, now or utcnow())
        catalog = await self.store.catalog()
        rows = []
        for g in groups:
            durations = [float(d) for d in g["durations"] if d is not None]
            rows.append(
                {
                    "category": g["_id"],
                    "category_name": category_name(catalog, g["_id"], lang),
                    "received": g["received"],
                    "resolved": g["resolved"],
                    "open": g["backlog"],
                    "overdue_now": g["overdue"],
                    "resolved_on_time_pct": stats.pct(g["on_time"], g["deadline_known"]),
                    "median_time_to_resolve_s": stats.rounded(stats.percentile(durations, 50)),
                    "mean_rating": stats.rounded(g.get("mean_rating"), 2),
                }
            )
        return stats.sort_rows(rows, "received", True, "category")

    async def timeseries(self, filters: Filters, interval: Interval) -> list[dict[str, Any]]:
        created, resolved = await self.store.series(filters, interval)
        return stats.fill_series(created, resolved, interval, filters.date_from, filters.date_to)

    async def grid(self, filters: Filters, cell: float, limit: int) -> dict[str, Any]:
        cells, total = await self.store.grid(filters, cell, limit)
        return {
            "cell_deg": cell,
            "cells_total": total,
            "truncated": total > len(cells),
            "cells": [
                stats.grid_cell(int(c["_id"]["ix"]), int(c["_id"]["iy"]), cell, c["n"])
                for c in cells
            ],
        }


class BusinessGauges:
    """Open reports and overdue assignments by agency, on-time ratio: refreshed by a loop."""

    def __init__(
        self, statistics: Statistics, registry: CollectorRegistry, interval_s: float
    ) -> None:
        self.statistics = statistics
        self.interval_s = interval_s
        self.open = Gauge(
            "analytics_open_reports",
            "Open reports (received, assigned, in progress) by current agency",
            ["agency"],
            registry=registry,
        )
        self.overdue = Gauge(
            "analytics_overdue_assignments",
            "Assigned or in-progress reports past their due time",
            ["agency"],
            registry=registry,
        )
        self.on_time = Gauge(
            "analytics_on_time_ratio",
            "Resolved reports resolved by their due time (0-1), by agency",
            ["agency"],
            registry=registry,
        )
        self.on_time_all = Gauge(
            "analytics_on_time_ratio_overall",
            "Resolved reports resolved by their due time (0-1)",
            registry=registry,
        )
        self.refreshed = Gauge(
            "analytics_gauges_refreshed_timestamp_seconds",
            "When the business gauges were last computed",
            registry=registry,
        )

    async def refresh(self) -> None:
        rows = await self.statistics.scoreboard(Filters(), "en")
        summary = await self.statistics.summary(Filters(), "en")
        for gauge in (self.open, self.overdue, self.on_time):
            gauge.clear()
        for row in rows:
            agency = row["agency_id"]
            self.open.labels(agency).set(row["backlog"])
            self.overdue.labels(agency).set(row["overdue_now"])
            if row["resolved_on_time_pct"] is not None:
                self.on_time.labels(agency).set(row["resolved_on_time_pct"] / 100)
        on_time = summary["resolved_on_time_pct"]
        self.on_time_all.set(float("nan") if on_time is None else on_time / 100)
        self.refreshed.set(utcnow().timestamp())

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await self.refresh()
            except Exception as exc:
                log.warning("business gauges not refreshed: %r", exc)
            await wait_any(stop, timeout=self.interval_s)
