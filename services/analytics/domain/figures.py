"""The figures statistics are made of: aggregates of facts (from the store) and the rows shown."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

# ------------------------------------------------------------------ aggregates (from the store)


@dataclass(frozen=True)
class Totals:
    """Sums and counts over the filtered facts."""

    total: int = 0
    assign_sum: float | None = None
    assign_n: int = 0
    resolve_sum: float | None = None
    resolve_n: int = 0
    resolved: int = 0
    on_time: int = 0
    deadline_known: int = 0
    open: int = 0
    overdue: int = 0
    rating_sum: float | None = None
    rating_n: int = 0
    escalations: int = 0
    reopened: int = 0


@dataclass(frozen=True)
class Breakdown:
    """Report counts by status, by category (None: unknown yet) and by current agency."""

    by_status: dict[str, int] = field(default_factory=dict)
    by_category: dict[str | None, int] = field(default_factory=dict)
    by_agency: dict[str, int] = field(default_factory=dict)


class Ranked(Protocol):
    """Resolve times by rank (0 = the shortest), at least at the ranks a percentile reads."""

    @property
    def count(self) -> int: ...

    def at(self, rank: int) -> float: ...


@dataclass(frozen=True)
class SortedTimes:
    """Every resolve time of a group, sorted."""

    values: tuple[float, ...] = ()

    @property
    def count(self) -> int:
        return len(self.values)

    def at(self, rank: int) -> float:
        return self.values[rank]


@dataclass(frozen=True)
class TimesAtRanks:
    """`count` resolve times of which only the ones at the ranks a percentile needs are known
    (read from the one histogram bucket each rank falls in)."""

    count: int
    values: Mapping[int, float]

    def at(self, rank: int) -> float:
        return self.values[rank]


@dataclass(frozen=True)
class Group:
    """The facts of one agency or one category, counted."""

    key: str
    received: int
    resolved: int
    on_time: int
    deadline_known: int
    backlog: int
    overdue: int
    mean_rating: float | None = None
    fallback_name: str | None = None
    durations: tuple[float | None, ...] = ()
    ranked: Ranked | None = None  # instead of `durations`, when the store read them by rank

    def resolve_times(self) -> list[float]:
        return [float(d) for d in self.durations if d is not None]

    def times(self) -> Ranked:
        return self.ranked or SortedTimes(tuple(sorted(self.resolve_times())))


@dataclass(frozen=True)
class CellCount:
    """Reports in the grid cell with integer indices (`ix`, `iy`) = floor(lon, lat / size)."""

    ix: int
    iy: int
    count: int


# ------------------------------------------------------------------ rows (to the API)


@dataclass(frozen=True)
class Summary:
    total: int
    by_status: dict[str, int]
    by_category: dict[str, int]
    by_agency: dict[str, int]
    agency_names: dict[str, str]
    mean_time_to_assign_s: float | None
    mean_time_to_resolve_s: float | None
    resolved: int
    resolved_on_time_pct: float | None
    open: int
    overdue_now: int
    mean_rating: float | None
    ratings: int
    escalations: int
    reopened: int


@dataclass(frozen=True)
class ScoreRow:
    agency_id: str
    agency_name: str
    received: int
    resolved: int
    resolved_on_time_pct: float | None
    median_time_to_resolve_s: float | None
    p90_time_to_resolve_s: float | None
    backlog: int
    overdue_now: int
    mean_rating: float | None


@dataclass(frozen=True)
class CategoryRow:
    category: str
    category_name: str
    received: int
    resolved: int
    open: int
    overdue_now: int
    resolved_on_time_pct: float | None
    median_time_to_resolve_s: float | None
    mean_rating: float | None


@dataclass(frozen=True)
class SeriesPoint:
    period: str
    created: int
    resolved: int


@dataclass(frozen=True)
class GridCell:
    south: float
    west: float
    north: float
    east: float
    lat: float
    lon: float
    count: int


@dataclass(frozen=True)
class Grid:
    cell_deg: float
    cells_total: int
    truncated: bool
    cells: list[GridCell]
