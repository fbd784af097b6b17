"""The figures of `figures.py` from rollup lines (`rollups.py`) instead of from every fact.

The lines are first narrowed to the filters (`admitted`); what is overdue now comes from the
facts past their due time, as (category, agency, area) triples. Each function gives what the
aggregation over the facts gives for the same data (`stores/windowed.py`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from typing import Literal

from services.analytics.domain.facts import DONE_STATUSES, week_start
from services.analytics.domain.figures import (
    Breakdown,
    CellCount,
    Group,
    Ranked,
    SortedTimes,
    TimesAtRanks,
    Totals,
)
from services.analytics.domain.rollups import RollupRow, Where
from services.analytics.domain.stats import Filters, Interval, percentile_ranks
from shared.events import OPEN_STATUSES

GroupBy = Literal["agency_id", "category"]
_DONE = {str(s) for s in DONE_STATUSES}
_OPEN = {str(s) for s in OPEN_STATUSES}
_SUMMED = (
    "assign_sum",
    "assign_n",
    "resolve_sum",
    "resolve_n",
    "on_time",
    "deadline_known",
    "rating_sum",
    "rating_n",
    "escalations",
    "reopened",
)


def admitted(rows: Iterable[RollupRow], filters: Filters) -> list[RollupRow]:
    """The `ALL` lines with reports that pass the category, agency and area filters."""
    return [
        r
        for r in rows
        if r.get("n") > 0 and filters.admits(r.key.category, r.key.agency_id, r.key.area_id)
    ]


def overdue_counts(overdue: Iterable[Where], filters: Filters, by: GroupBy | None) -> Counter[str]:
    """Overdue reports that pass the filters, by agency or category ("" = all of them)."""
    counts: Counter[str] = Counter()
    for category, agency, area in overdue:
        if filters.admits(category, agency, area):
            key = {"agency_id": agency, "category": category, None: ""}[by]
            if key is not None:
                counts[key] += 1
    return counts


def totals(rows: Sequence[RollupRow], overdue: int) -> Totals:
    sums = {name: sum(r.get(name) for r in rows) for name in _SUMMED}
    ints = {k: int(v) for k, v in sums.items() if not k.endswith("_sum")}
    return Totals(
        total=int(sum(r.get("n") for r in rows)),
        assign_sum=sums["assign_sum"],
        resolve_sum=sums["resolve_sum"],
        rating_sum=sums["rating_sum"],
        resolved=int(sum(r.get("n") for r in rows if r.key.status in _DONE)),
        open=int(sum(r.get("n") for r in rows if r.key.status in _OPEN)),
        overdue=overdue,
        **ints,
    )


def breakdown(rows: Sequence[RollupRow]) -> Breakdown:
    by_status: Counter[str] = Counter()
    by_category: Counter[str | None] = Counter()
    by_agency: Counter[str] = Counter()
    for r in rows:
        n = int(r.get("n"))
        by_status[str(r.key.status)] += n
        by_category[r.key.category] += n
        if r.key.agency_id is not None:
            by_agency[r.key.agency_id] += n
    return Breakdown(dict(by_status), dict(by_category), dict(by_agency))


def by_group(rows: Sequence[RollupRow], by: GroupBy) -> dict[str, list[RollupRow]]:
    """The lines of each agency (or category); lines without one are left out."""
    out: dict[str, list[RollupRow]] = {}
    for r in rows:
        key = r.key.agency_id if by == "agency_id" else r.key.category
        if key is not None:
            out.setdefault(key, []).append(r)
    return out


def histogram(rows: Iterable[RollupRow]) -> dict[int, int]:
    """The resolve-time histogram of some lines, summed."""
    hist: Counter[int] = Counter()
    for r in rows:
        hist.update(r.histogram())
    return dict(hist)


def group(key: str, rows: Sequence[RollupRow], overdue: int, times: Ranked | None) -> Group:
    rating_n = sum(r.get("rating_n") for r in rows)
    names = [r.key.agency_name for r in rows if r.key.agency_name is not None]
    return Group(
        key=key,
        received=int(sum(r.get("n") for r in rows)),
        resolved=int(sum(r.get("n") for r in rows if r.key.status in _DONE)),
        on_time=int(sum(r.get("on_time") for r in rows)),
        deadline_known=int(sum(r.get("deadline_known") for r in rows)),
        backlog=int(sum(r.get("n") for r in rows if r.key.status in _OPEN)),
        overdue=overdue,
        mean_rating=sum(r.get("rating_sum") for r in rows) / rating_n if rating_n else None,
        fallback_name=max(names, default=None),
        ranked=times,
    )


def buckets_for(hist: Mapping[int, int], percentiles: Iterable[float]) -> dict[int, int]:
    """The ranks the percentiles read, each with the bucket it falls in."""
    count = sum(hist.values())
    if not count:
        return {}
    ranks = sorted({r for p in percentiles for r in percentile_ranks(count, p)})
    out: dict[int, int] = {}
    below, it = 0, iter(sorted(hist.items()))
    bucket, n = next(it)
    for rank in ranks:
        while rank >= below + n:
            below += n
            bucket, n = next(it)
        out[rank] = bucket
    return out


def first_rank(hist: Mapping[int, int], bucket: int) -> int:
    """The rank of the shortest time in `bucket`."""
    return sum(n for b, n in hist.items() if b < bucket)


def times_at_ranks(
    hist: Mapping[int, int], wanted: Mapping[int, int], in_bucket: Mapping[int, Sequence[float]]
) -> Ranked:
    """The times at the `wanted` ranks (rank -> bucket) from the times of those buckets; none
    if a bucket does not hold what the histogram says (a fact changed between the reads)."""
    values: dict[int, float] = {}
    for rank, bucket in wanted.items():
        times = sorted(in_bucket.get(bucket, ()))
        offset = rank - first_rank(hist, bucket)
        if not 0 <= offset < len(times):
            return SortedTimes()
        values[rank] = times[offset]
    return TimesAtRanks(sum(hist.values()), values)


def cells(rows: Iterable[RollupRow], filters: Filters) -> list[CellCount]:
    """Counts per grid cell of the reports that pass the filters, largest first (then south
    to north, west to east)."""
    counts: Counter[tuple[int, int]] = Counter()
    for r in rows:
        if r.key.iy is not None and r.key.ix is not None:
            counts[(r.key.iy, r.key.ix)] += _admitted_count(r, filters)
    ordered = sorted((c for c in counts.items() if c[1] > 0), key=lambda c: (-c[1], c[0]))
    return [CellCount(ix, iy, n) for (iy, ix), n in ordered]


def per_bucket(rows: Iterable[RollupRow], interval: Interval, filters: Filters) -> dict[str, int]:
    """Counts per day, or per week (its Monday), of `CREATED` or `RESOLVED` lines."""
    counts: Counter[str] = Counter()
    for r in rows:
        if r.key.day is not None:
            day = r.key.day
            if interval == "week":
                day = week_start(date.fromisoformat(day)).isoformat()
            counts[day] += _admitted_count(r, filters)
    return {k: n for k, n in counts.items() if n > 0}


def _admitted_count(row: RollupRow, filters: Filters) -> int:
    return sum(n for where, n in row.by_where() if filters.admits(*where))
