"""Business gauges on `/metrics`: open and overdue reports by agency, on-time ratios."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime

from prometheus_client import CollectorRegistry, Gauge

from services.analytics.domain.stats import Filters
from services.analytics.usecases.statistics import Statistics
from shared.aio import wait_any

log = logging.getLogger(__name__)


class BusinessMetrics:
    """The gauge families (registered once, on the service's registry)."""

    def __init__(self, registry: CollectorRegistry) -> None:
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


class BusinessGauges:
    """Sets the gauges from the scoreboard and the summary (read from the rollups): at most
    every `interval_s`, and only when a fact changed since (`changed`, after each commit that
    projected something) or `idle_factor` intervals went by (what is overdue moves with time)."""

    def __init__(
        self,
        statistics: Statistics,
        metrics: BusinessMetrics,
        clock: Callable[[], datetime],
        interval_s: float,
        idle_factor: float = 10.0,
    ) -> None:
        self.statistics = statistics
        self.metrics = metrics
        self.clock = clock
        self.interval_s = interval_s
        self.idle_s = interval_s * idle_factor
        self._changed = asyncio.Event()

    def changed(self) -> None:
        """Some fact changed: the next refresh is due once `interval_s` has passed."""
        self._changed.set()

    async def refresh(self) -> None:
        m = self.metrics
        rows = await self.statistics.scoreboard(Filters(), "en", percentiles=False)
        summary = await self.statistics.summary(Filters(), "en")
        for gauge in (m.open, m.overdue, m.on_time):
            gauge.clear()
        for row in rows:
            m.open.labels(row.agency_id).set(row.backlog)
            m.overdue.labels(row.agency_id).set(row.overdue_now)
            if row.resolved_on_time_pct is not None:
                m.on_time.labels(row.agency_id).set(row.resolved_on_time_pct / 100)
        on_time = summary.resolved_on_time_pct
        m.on_time_all.set(float("nan") if on_time is None else on_time / 100)
        m.refreshed.set(self.clock().timestamp())

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            self._changed.clear()  # before reading: a change during the refresh counts
            try:
                await self.refresh()
            except Exception as exc:
                log.warning("business gauges not refreshed: %r", exc)
                self._changed.set()
            await wait_any(stop, timeout=self.interval_s)
            if not self._changed.is_set():
                await wait_any(stop, self._changed, timeout=self.idle_s - self.interval_s)
