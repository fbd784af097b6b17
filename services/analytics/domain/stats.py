"""Statistics rules: filters, percentiles, on-time ratio, table rows, buckets and the heat grid.

Definitions (also in the service README):
- on-time %: of the reports currently resolved or closed whose deadline is known, the share
  resolved no later than the due time of the assignment they were resolved under, x 100.
- median / p90: linear interpolation between closest ranks (the "inclusive" method of
  spreadsheets and numpy's default): rank = p/100 x (n - 1) over the sorted values.

The store aggregates facts into the figures of `domain/figures.py` (`Totals`, `Breakdown`,
`Group`, `CellCount`); the functions here turn those into the rows the API shows.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Literal, TypeVar, get_args

from services.analytics.domain.errors import InvalidDateRange
from services.analytics.domain.facts import week_start
from services.analytics.domain.figures import (
    Breakdown,
    CategoryRow,
    CellCount,
    Grid,
    GridCell,
    Group,
    Ranked,
    ScoreRow,
    SeriesPoint,
    SortedTimes,
    Summary,
    Totals,
)

Interval = Literal["day", "week"]


@dataclass(frozen=True)
class Filters:
    """Filters every statistic accepts. Dates are local days of the city, inclusive."""

    date_from: date | None = None
    date_to: date | None = None
    categories: tuple[str, ...] = ()
    agencies: tuple[str, ...] = ()
    areas: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.date_from and self.date_to and self.date_from > self.date_to:
            raise InvalidDateRange("`from` is after `to`")

    @property
    def windowed(self) -> bool:
        """A date range is given (else: every report ever, read from the rollups)."""
        return self.date_from is not None or self.date_to is not None

    def admits(self, category: str | None, agency_id: str | None, area_id: str | None) -> bool:
        """Whether a report of this category, agency and area passes the non-date filters."""
        return all(
            not allowed or value in allowed
            for value, allowed in (
                (category, self.categories),
                (agency_id, self.agencies),
                (area_id, self.areas),
            )
        )


@dataclass(frozen=True)
class GridLimits:
    """Bounds of the heat grid: cell size in degrees and the most cells returned."""

    default_cell: float
    min_cell: float
    max_cells: int

    def cell(self, requested: float | None) -> float:
        """The requested size (or the default), clamped to [min_cell, 1 degree]."""
        return min(max(requested or self.default_cell, self.min_cell), 1.0)

    def most(self, requested: int | None) -> int:
        return min(requested or self.max_cells, self.max_cells)


SortColumn = Literal[
    "agency_id",
    "agency_name",
    "received",
    "resolved",
    "resolved_on_time_pct",
    "median_time_to_resolve_s",
    "p90_time_to_resolve_s",
    "backlog",
    "overdue_now",
    "mean_rating",
]
SCOREBOARD_COLUMNS: tuple[str, ...] = get_args(SortColumn)


# ------------------------------------------------------------------ rules


def percentile_ranks(count: int, p: float) -> tuple[int, int]:
    """The two ranks (0-based, in sorted order) the p-th percentile of `count` values reads."""
    rank = (p / 100) * (count - 1)
    return math.floor(rank), math.ceil(rank)


def percentile(values: Sequence[float] | Ranked, p: float) -> float | None:
    """p-th percentile (0-100) by linear interpolation between closest ranks; None if empty."""
    ranked = SortedTimes(tuple(sorted(values))) if isinstance(values, Sequence) else values
    if not ranked.count:
        return None
    rank = (p / 100) * (ranked.count - 1)
    low, high = percentile_ranks(ranked.count, p)
    return ranked.at(low) + (ranked.at(high) - ranked.at(low)) * (rank - low)


def ratio(part: int, whole: int) -> float | None:
    return None if whole == 0 else part / whole


def pct(part: int, whole: int) -> float | None:
    r = ratio(part, whole)
    return None if r is None else round(100 * r, 1)


def mean(total: float | None, count: int) -> float | None:
    return None if not count or total is None else total / count


def rounded(value: float | None, digits: int = 1) -> float | None:
    return None if value is None else round(value, digits)


def summary(totals: Totals, breakdown: Breakdown, agency_names: dict[str, str]) -> Summary:
    """The headline numbers; reports whose category is not known yet are not in `by_category`."""
    t = totals
    return Summary(
        total=t.total,
        by_status=dict(breakdown.by_status),
        by_category={k: n for k, n in breakdown.by_category.items() if k is not None},
        by_agency=dict(breakdown.by_agency),
        agency_names=agency_names,
        mean_time_to_assign_s=rounded(mean(t.assign_sum, t.assign_n)),
        mean_time_to_resolve_s=rounded(mean(t.resolve_sum, t.resolve_n)),
        resolved=t.resolved,
        resolved_on_time_pct=pct(t.on_time, t.deadline_known),
        open=t.open,
        overdue_now=t.overdue,
        mean_rating=rounded(mean(t.rating_sum, t.rating_n), 2),
        ratings=t.rating_n,
        escalations=t.escalations,
        reopened=t.reopened,
    )


def scoreboard_row(group: Group, name: str) -> ScoreRow:
    """One agency's row: counts, on-time %, median and p90 of its resolve times."""
    durations = group.times()
    return ScoreRow(
        agency_id=group.key,
        agency_name=name,
        received=group.received,
        resolved=group.resolved,
        resolved_on_time_pct=pct(group.on_time, group.deadline_known),
        median_time_to_resolve_s=rounded(percentile(durations, 50)),
        p90_time_to_resolve_s=rounded(percentile(durations, 90)),
        backlog=group.backlog,
        overdue_now=group.overdue,
        mean_rating=rounded(group.mean_rating, 2),
    )


def category_row(group: Group, name: str) -> CategoryRow:
    return CategoryRow(
        category=group.key,
        category_name=name,
        received=group.received,
        resolved=group.resolved,
        open=group.backlog,
        overdue_now=group.overdue,
        resolved_on_time_pct=pct(group.on_time, group.deadline_known),
        median_time_to_resolve_s=rounded(percentile(group.times(), 50)),
        mean_rating=rounded(group.mean_rating, 2),
    )


Row = TypeVar("Row")


def sort_rows(rows: list[Row], column: str, descending: bool, tiebreak: str) -> list[Row]:
    """Sorts by `column`; rows without a value go last whatever the direction."""

    def value(row: Row, name: str) -> Any:
        return getattr(row, name)

    present = [r for r in rows if value(r, column) is not None]
    missing = [r for r in rows if value(r, column) is None]
    present.sort(key=lambda r: str(value(r, tiebreak)))
    present.sort(key=lambda r: value(r, column), reverse=descending)
    missing.sort(key=lambda r: str(value(r, tiebreak)))
    return present + missing


def bucket_keys(start: date, end: date, interval: Interval) -> list[str]:
    """Every bucket key from `start` to `end` inclusive (days, or Mondays of weeks)."""
    step = timedelta(days=1 if interval == "day" else 7)
    current = start if interval == "day" else week_start(start)
    keys: list[str] = []
    while current <= end and len(keys) < 3700:
        keys.append(current.isoformat())
        current += step
    return keys


def fill_series(
    created: Mapping[str, int],
    resolved: Mapping[str, int],
    interval: Interval,
    start: date | None,
    end: date | None,
) -> list[SeriesPoint]:
    """One point per bucket between the bounds (or the data's extent), zeros where nothing."""
    seen = sorted(set(created) | set(resolved))
    if not seen and (start is None or end is None):
        return []
    first = start or date.fromisoformat(seen[0])
    last = end or date.fromisoformat(seen[-1])
    return [
        SeriesPoint(key, created.get(key, 0), resolved.get(key, 0))
        for key in bucket_keys(first, last, interval)
    ]


def grid_cell(ix: int, iy: int, cell: float, count: int) -> GridCell:
    """A heat-grid cell from its integer indices: south-west corner, centre and count."""
    south, west = iy * cell, ix * cell
    return GridCell(
        south=round(south, 6),
        west=round(west, 6),
        north=round(south + cell, 6),
        east=round(west + cell, 6),
        lat=round(south + cell / 2, 6),
        lon=round(west + cell / 2, 6),
        count=count,
    )


def grid(cells: Sequence[CellCount], total: int, cell: float) -> Grid:
    """The heat grid of the largest cells; `truncated` when more cells have reports."""
    return Grid(
        cell_deg=cell,
        cells_total=total,
        truncated=total > len(cells),
        cells=[grid_cell(c.ix, c.iy, cell, c.count) for c in cells],
    )
