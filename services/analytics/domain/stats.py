"""Statistics rules: filters, percentiles, on-time ratio, scoreboard rows, buckets and CSV.

Definitions (also in the service README):
- on-time %: of the reports currently resolved or closed whose deadline is known, the share
  resolved no later than the due time of the assignment they were resolved under, x 100.
- median / p90: linear interpolation between closest ranks (the "inclusive" method of
  spreadsheets and numpy's default): rank = p/100 x (n - 1) over the sorted values.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Literal, get_args

from services.analytics.domain.facts import week_start

Interval = Literal["day", "week"]


@dataclass(frozen=True)
class Filters:
    """Filters every statistic accepts. Dates are local days of the city, inclusive."""

    date_from: date | None = None
    date_to: date | None = None
    categories: tuple[str, ...] = ()
    agencies: tuple[str, ...] = ()
    areas: tuple[str, ...] = ()

    def match(self, day_field: str = "created_day") -> dict[str, Any]:
        """The MongoDB `$match` for these filters; dates apply to `day_field`."""
        query: dict[str, Any] = {}
        days: dict[str, str] = {}
        if self.date_from:
            days["$gte"] = self.date_from.isoformat()
        if self.date_to:
            days["$lte"] = self.date_to.isoformat()
        if days:
            query[day_field] = days
        for name, values in (
            ("category", self.categories),
            ("agency_id", self.agencies),
            ("area_id", self.areas),
        ):
            if values:
                query[name] = values[0] if len(values) == 1 else {"$in": list(values)}
        return query


def percentile(values: Sequence[float], p: float) -> float | None:
    """p-th percentile (0-100) by linear interpolation between closest ranks; None if empty."""
    if not values:
        return None
    ordered = sorted(values)
    rank = (p / 100) * (len(ordered) - 1)
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def ratio(part: int, whole: int) -> float | None:
    return None if whole == 0 else part / whole


def pct(part: int, whole: int) -> float | None:
    r = ratio(part, whole)
    return None if r is None else round(100 * r, 1)


def mean(total: float | None, count: int) -> float | None:
    return None if not count or total is None else total / count


def rounded(value: float | None, digits: int = 1) -> float | None:
    return None if value is None else round(value, digits)


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


def scoreboard_row(group: Mapping[str, Any], name: str) -> dict[str, Any]:
    """One agency's row from its aggregation group (counts and the list of resolve durations)."""
    durations = [float(d) for d in group.get("durations", []) if d is not None]
    return {
        "agency_id": group["_id"],
        "agency_name": name,
        "received": group["received"],
        "resolved": group["resolved"],
        "resolved_on_time_pct": pct(group["on_time"], group["deadline_known"]),
        "median_time_to_resolve_s": rounded(percentile(durations, 50)),
        "p90_time_to_resolve_s": rounded(percentile(durations, 90)),
        "backlog": group["backlog"],
        "overdue_now": group["overdue"],
        "mean_rating": rounded(group.get("mean_rating"), 2),
    }


def sort_rows(
    rows: list[dict[str, Any]], column: str, descending: bool, tiebreak: str
) -> list[dict[str, Any]]:
    """Sorts by `column`; rows without a value go last whatever the direction."""
    present = [r for r in rows if r.get(column) is not None]
    missing = [r for r in rows if r.get(column) is None]
    present.sort(key=lambda r: str(r[tiebreak]))
    present.sort(key=lambda r: r[column], reverse=descending)
    missing.sort(key=lambda r: str(r[tiebreak]))
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
) -> list[dict[str, Any]]:
    """One point per bucket between the bounds (or the data's extent), zeros where nothing."""
    seen = sorted(set(created) | set(resolved))
    if not seen and (start is None or end is None):
        return []
    first = start or date.fromisoformat(seen[0])
    last = end or date.fromisoformat(seen[-1])
    return [
        {"period": key, "created": created.get(key, 0), "resolved": resolved.get(key, 0)}
        for key in bucket_keys(first, last, interval)
    ]


def to_csv(rows: Iterable[Mapping[str, Any]], columns: Sequence[str]) -> str:
    """CSV with a header row; missing values are empty cells."""
    out = io.StringIO()
    writer = csv.DictWriter(
        out, fieldnames=list(columns), extrasaction="ignore", lineterminator="\r\n"
    )
    writer.writeheader()
    for row in rows:
        writer.writerow({c: "" if row.get(c) is None else row.get(c) for c in columns})
    return out.getvalue()


def grid_cell(ix: int, iy: int, cell: float, count: int) -> dict[str, Any]:
    """A heat-grid cell from its integer indices: south-west corner, centre and count."""
    south, west = iy * cell, ix * cell
    return {
        "south": round(south, 6),
        "west": round(west, 6),
        "north": round(south + cell, 6),
        "east": round(west + cell, 6),
        "lat": round(south + cell / 2, 6),
        "lon": round(west + cell / 2, 6),
        "count": count,
    }
