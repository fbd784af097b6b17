"""The statistics queries the API, the dashboard, the gauges and the rebuild report read."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from services.analytics.domain import corrections, stats
from services.analytics.domain.catalog import Names
from services.analytics.domain.figures import CategoryRow, Grid, ScoreRow, SeriesPoint, Summary
from services.analytics.domain.stats import Filters, GridLimits, Interval
from services.analytics.usecases.ports import Aggregations, CatalogReader


class Statistics:
    """Every statistic, from the store's aggregations; names from the kept catalogue (held in
    memory: `CatalogMemory`).

    `now` (default: the clock) decides what is overdue; the rebuild passes one instant to
    compare two databases.
    """

    def __init__(
        self,
        facts: Aggregations,
        catalog: CatalogReader,
        clock: Callable[[], datetime],
        grid_limits: GridLimits,
    ) -> None:
        self.facts = facts
        self.catalog = catalog
        self.clock = clock
        self.grid_limits = grid_limits

    async def _names(self) -> Names:
        return Names(await self.catalog.load())

    async def summary(self, filters: Filters, lang: str, now: datetime | None = None) -> Summary:
        totals, breakdown = await self.facts.summary(filters, now or self.clock())
        names = await self._names()
        agency_names = {a: names.agency(a, lang) for a in breakdown.by_agency}
        return stats.summary(totals, breakdown, agency_names)

    async def scoreboard(
        self,
        filters: Filters,
        lang: str,
        sort: str = "resolved_on_time_pct",
        descending: bool = True,
        now: datetime | None = None,
        percentiles: bool = True,
    ) -> list[ScoreRow]:
        """One row per agency, sorted by `sort` (rows without a value last), then by id;
        without `percentiles` the median and p90 are left empty (read less)."""
        wanted = (50, 90) if percentiles else ()
        groups = await self.facts.by_agency(filters, now or self.clock(), wanted)
        names = await self._names()
        rows = [stats.scoreboard_row(g, names.agency(g.key, lang, g.fallback_name)) for g in groups]
        return stats.sort_rows(rows, sort, descending, "agency_id")

    async def categories(
        self, filters: Filters, lang: str, now: datetime | None = None
    ) -> list[CategoryRow]:
        """One row per category, most reports first."""
        groups = await self.facts.by_category(filters, now or self.clock())
        names = await self._names()
        rows = [stats.category_row(g, names.category(g.key, lang)) for g in groups]
        return stats.sort_rows(rows, "received", True, "category")

    async def corrections(self, filters: Filters, lang: str) -> corrections.Corrections:
        """Reports corrected to another category (by from, to, agency and who chose the first
        category) and, per category filed as, the share corrected."""
        corrected, now_in = await self.facts.corrections(filters)
        names = await self._names()
        return corrections.table(
            corrected, now_in, lambda c: names.category(c, lang), lambda a: names.agency(a, lang)
        )

    async def timeseries(self, filters: Filters, interval: Interval) -> list[SeriesPoint]:
        """Created and resolved per bucket, every bucket between the bounds (zeros included)."""
        created, resolved = await self.facts.series(filters, interval)
        return stats.fill_series(created, resolved, interval, filters.date_from, filters.date_to)

    async def grid(
        self, filters: Filters, cell: float | None = None, limit: int | None = None
    ) -> Grid:
        """Counts per cell; the cell size and the number of cells are clamped to the limits."""
        size, most = self.grid_limits.cell(cell), self.grid_limits.most(limit)
        cells, total = await self.facts.grid(filters, size, most)
        return stats.grid(cells, total, size)
