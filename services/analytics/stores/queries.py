"""Every statistic's read, bounded however many reports are stored.

- Without a date window (the dashboard's default): from the rollups, whose size depends on the
  catalogue, the days and the grid cells, not on the number of reports; what is overdue now
  from the facts past their due time; a median or p90 from the facts of the one resolve-time
  bucket its rank falls in (`resolve_bucket` index).
- With a date window: aggregations over the facts of its days (`stores/windowed.py`), and
  the time series from the rollups of its days.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import datetime

from pymongo.asynchronous.database import AsyncDatabase

from services.analytics.domain import corrections, tallies
from services.analytics.domain.corrections import Corrected
from services.analytics.domain.figures import Breakdown, CellCount, Group, Ranked, Totals
from services.analytics.domain.rollups import ALL, CELL, CREATED, RESOLVED, RollupRow
from services.analytics.domain.stats import Filters, Interval
from services.analytics.domain.tallies import GroupBy
from services.analytics.stores.facts import FactStore
from services.analytics.stores.rollups import RollupStore
from services.analytics.stores.windowed import WindowedQueries
from shared.mongo import Document


class FactQueries:
    """The aggregations the statistics read (`usecases/statistics.py` `Aggregations`)."""

    def __init__(self, db: AsyncDatabase[Document], cell_deg: float) -> None:
        self.facts = FactStore(db)
        self.rollups = RollupStore(db)
        self.windowed = WindowedQueries(db)
        self.cell_deg = cell_deg

    async def _lines(self, filters: Filters, histograms: bool = False) -> list[RollupRow]:
        rows = await self.rollups.rows(ALL, histograms=histograms)
        return tallies.admitted(rows, filters)

    async def summary(self, filters: Filters, now: datetime) -> tuple[Totals, Breakdown]:
        if filters.windowed:
            return await self.windowed.summary(filters, now)
        lines = await self._lines(filters)
        overdue = tallies.overdue_counts(await self.facts.overdue(now), filters, None)
        return tallies.totals(lines, overdue[""]), tallies.breakdown(lines)

    async def by_agency(
        self, filters: Filters, now: datetime, percentiles: Sequence[float] = (50, 90)
    ) -> list[Group]:
        return await self._grouped("agency_id", filters, now, percentiles)

    async def by_category(
        self, filters: Filters, now: datetime, percentiles: Sequence[float] = (50,)
    ) -> list[Group]:
        return await self._grouped("category", filters, now, percentiles)

    async def _grouped(
        self, by: GroupBy, filters: Filters, now: datetime, percentiles: Sequence[float]
    ) -> list[Group]:
        if filters.windowed:
            return await self.windowed.grouped(by, filters, now, bool(percentiles))
        groups = tallies.by_group(await self._lines(filters, bool(percentiles)), by)
        overdue = tallies.overdue_counts(await self.facts.overdue(now), filters, by)
        out = []
        for key, lines in groups.items():
            times = await self._times(by, key, lines, filters, percentiles)
            out.append(tallies.group(key, lines, overdue[key], times))
        return out

    async def _times(
        self,
        by: GroupBy,
        key: str,
        lines: list[RollupRow],
        filters: Filters,
        percentiles: Sequence[float],
    ) -> Ranked | None:
        """The resolve times at the ranks the percentiles read, from their buckets only."""
        if not percentiles:
            return None
        hist = tallies.histogram(lines)
        wanted = tallies.buckets_for(hist, percentiles)
        in_bucket: dict[int, list[float]] = {}
        for bucket in sorted(set(wanted.values())):
            found = await self.facts.resolve_times(by, key, bucket)
            in_bucket[bucket] = [t for where, t in found if filters.admits(*where)]
        return tallies.times_at_ranks(hist, wanted, in_bucket)

    async def corrections(self, filters: Filters) -> tuple[list[Corrected], Counter[str | None]]:
        """Reports corrected to another category, and the count per current category."""
        if filters.windowed:
            return await self.windowed.corrections(filters)
        return corrections.from_lines(await self._lines(filters))

    async def series(
        self, filters: Filters, interval: Interval
    ) -> tuple[dict[str, int], dict[str, int]]:
        """Reports created and resolved per bucket, each by its own day, from the rollups."""
        first = filters.date_from.isoformat() if filters.date_from else None
        last = filters.date_to.isoformat() if filters.date_to else None
        created = await self.rollups.rows(CREATED, first, last)
        resolved = await self.rollups.rows(RESOLVED, first, last)
        return (
            tallies.per_bucket(created, interval, filters),
            tallies.per_bucket(resolved, interval, filters),
        )

    async def grid(self, filters: Filters, cell: float, limit: int) -> tuple[list[CellCount], int]:
        """Counts per cell (largest first, at most `limit`) and the number of cells."""
        if filters.windowed or cell != self.cell_deg:
            cells = await self.windowed.grid(filters, cell)
        else:
            cells = tallies.cells(await self.rollups.rows(CELL), filters)
        return cells[:limit], len(cells)
