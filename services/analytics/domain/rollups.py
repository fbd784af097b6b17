"""Rollups: running totals of the facts, so the statistics never read every fact stored.

Each fact contributes to a few rollup lines (`contributions`):

- `ALL` (category, agency, agency name, area, status): the count and every sum and count a
  summary or a scoreboard row needs, a histogram of the resolve times (`resolve_bucket`),
  so a median or p90 fetches only the facts of the one bucket its rank falls in, and the
  reports corrected into the line's category by the category they were created as (`FROM`);
- `CREATED` (a creation day) and `RESOLVED` (a resolution day): for the time series, one line
  per day with a count per (category, agency, area) (`where_key`), so a year's series reads
  365 lines whatever the filters;
- `CELL` (a cell of `cell_deg` degrees): for the heat grid, likewise one line per cell.

When a fact changes, its old contribution is taken out and the new one added (`Delta`), in
the same unit of work as the fact, so the rollups always equal the sum over the stored facts.
None of it depends on the clock: what is overdue *now* is read from the facts (bounded by the
reports currently past due).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from services.analytics.domain.facts import DONE_STATUSES, Fact

# Bump when a contribution rule changes: the rollups are then rebuilt from the facts.
ROLLUP_VERSION = 1
ALL, CREATED, RESOLVED, CELL = "all", "created", "resolved", "cell"
KINDS = (ALL, CREATED, RESOLVED, CELL)
# Resolve-time histogram: 16 buckets per doubling of (1 + seconds), about 4.4 % wide.
BUCKETS_PER_DOUBLING = 16
HIST = "h"  # a histogram count is the counter `h<bucket>`
WHERE = "w"  # a count of one (category, agency, area) is the counter `w["cat","agency","area"]`
# A report created as another category than its line's, corrected since: `f["cat","chosen_by"]`.
FROM = "f"

Counts = dict[str, float]
_DONE = {str(s) for s in DONE_STATUSES}


@dataclass(frozen=True)
class RollupBasis:
    """What the stored rollups were built with; other rules or another cell: rebuild them."""

    version: int
    cell_deg: float


Where = tuple[str | None, str | None, str | None]  # category, agency, area


@dataclass(frozen=True)
class RollupKey:
    kind: str
    category: str | None = None  # ALL
    agency_id: str | None = None  # ALL
    area_id: str | None = None  # ALL
    day: str | None = None  # CREATED, RESOLVED
    status: str | None = None  # ALL
    agency_name: str | None = None  # ALL
    iy: int | None = None  # CELL: floor(lat / cell_deg)
    ix: int | None = None  # CELL: floor(lon / cell_deg)


@dataclass(frozen=True)
class RollupRow:
    """One stored rollup line."""

    key: RollupKey
    counts: Counts

    def get(self, name: str) -> float:
        return self.counts.get(name, 0)

    def by_where(self) -> list[tuple[Where, int]]:
        """(category, agency, area) -> count, of a `CREATED`, `RESOLVED` or `CELL` line."""
        out = []
        for name, n in self.counts.items():
            if name.startswith(WHERE) and n:
                category, agency, area = json.loads(name[len(WHERE) :])
                out.append(((category, agency, area), int(n)))
        return out

    def corrected_from(self) -> list[tuple[tuple[str, str | None], int]]:
        """(category created as, who chose it) -> count, of an `ALL` line's corrected reports."""
        out = []
        for name, n in self.counts.items():
            if name.startswith(FROM) and n:
                category, chosen_by = json.loads(name[len(FROM) :])
                out.append(((category, chosen_by), int(n)))
        return out

    def histogram(self) -> dict[int, int]:
        """Resolve-time bucket -> number of facts (non-zero only)."""
        return {
            int(name[len(HIST) :]): int(n)
            for name, n in self.counts.items()
            if name.startswith(HIST) and name[len(HIST) :].isdigit() and n
        }


def resolve_bucket(seconds: float) -> int:
    """The histogram bucket of a resolve time (monotonic: a later bucket, a longer time)."""
    return math.floor(math.log2(1 + max(seconds, 0.0)) * BUCKETS_PER_DOUBLING)


def hist_key(bucket: int) -> str:
    return f"{HIST}{bucket}"


def where_key(where: Where) -> str:
    return WHERE + json.dumps(list(where), ensure_ascii=False, separators=(",", ":"))


def from_key(category: str, chosen_by: str | None) -> str:
    return FROM + json.dumps([category, chosen_by], ensure_ascii=False, separators=(",", ":"))


def corrected(fact: Fact) -> bool:
    """Created as one category, now another after an operator's correction."""
    return bool(
        fact.recategorized
        and fact.original_category is not None
        and fact.original_category != fact.category
    )


def cell_of(lat: float, lon: float, cell_deg: float) -> tuple[int, int]:
    """(iy, ix) of the grid cell holding the point (the same floor the database computes)."""
    return math.floor(lat / cell_deg), math.floor(lon / cell_deg)


def tally(fact: Fact) -> Counts:
    """What one fact adds to its `ALL` line."""
    done = fact.status in _DONE
    counts: Counts = {"n": 1}
    if fact.time_to_assign_s is not None:
        counts |= {"assign_sum": fact.time_to_assign_s, "assign_n": 1}
    if fact.time_to_resolve_s is not None:
        counts |= {"resolve_sum": fact.time_to_resolve_s, "resolve_n": 1}
        counts[hist_key(resolve_bucket(fact.time_to_resolve_s))] = 1
    if fact.on_time is True:
        counts["on_time"] = 1
    if done and fact.on_time is not None:
        counts["deadline_known"] = 1
    if fact.rating is not None:
        counts |= {"rating_sum": fact.rating, "rating_n": 1}
    if fact.escalations:
        counts["escalations"] = fact.escalations
    if fact.reopen_count:
        counts["reopened"] = fact.reopen_count
    if corrected(fact) and fact.original_category is not None:
        counts[from_key(fact.original_category, fact.category_chosen_by)] = 1
    return counts


def contributions(fact: Fact, cell_deg: float) -> Iterator[tuple[RollupKey, Counts]]:
    """Every rollup line the fact counts in, with what it adds there."""
    where = (fact.category, fact.agency_id, fact.area_id)
    yield (
        RollupKey(ALL, *where, status=fact.status, agency_name=fact.agency_name),
        tally(fact),
    )
    one = {where_key(where): 1.0}
    if fact.created_day is not None:
        yield RollupKey(CREATED, day=fact.created_day), one
    if fact.resolved_day is not None:
        yield RollupKey(RESOLVED, day=fact.resolved_day), one
    if fact.lat is not None and fact.lon is not None:
        iy, ix = cell_of(fact.lat, fact.lon, cell_deg)
        yield RollupKey(CELL, iy=iy, ix=ix), one


class Delta:
    """The change to the rollups of a batch of fact changes, merged by line."""

    def __init__(self, cell_deg: float) -> None:
        self.cell_deg = cell_deg
        self._lines: dict[RollupKey, Counts] = {}

    def add(self, fact: Fact, sign: int = 1) -> None:
        for key, counts in contributions(fact, self.cell_deg):
            line = self._lines.setdefault(key, {})
            for name, value in counts.items():
                line[name] = line.get(name, 0) + sign * value

    def move(self, old: Fact | None, new: Fact) -> None:
        """`old`'s contribution out (if it was counted), `new`'s in."""
        if old is not None:
            self.add(old, -1)
        self.add(new)

    def lines(self) -> list[tuple[RollupKey, Counts]]:
        """The lines that change, each with its non-zero changes."""
        out = []
        for key, counts in self._lines.items():
            changed = {k: v for k, v in counts.items() if v != 0}
            if changed:
                out.append((key, changed))
        return out


def rebuilt(facts: Iterable[Fact], cell_deg: float) -> Delta:
    """The rollups of `facts` from nothing."""
    delta = Delta(cell_deg)
    for fact in facts:
        delta.add(fact)
    return delta
