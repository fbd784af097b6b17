"""Category corrections: how often a report was filed under the wrong category, and what the
IOC operators corrected it to (`report.recategorized`).

A report counts once, from the category it was created as (and who chose that: the resident
or the triage model) to its current category, under its current agency; one corrected back to
its first category counts as not corrected. "Filed as" a category is worked out from the
current counts: the reports now in it, less those corrected into it, plus those corrected out
of it. The filters apply to the current category, agency and area, as everywhere else.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from services.analytics.domain.rollups import RollupRow
from services.analytics.domain.stats import pct


@dataclass(frozen=True)
class Corrected:
    """`count` reports created as `from_category` (chosen by `chosen_by`), now `to_category`
    under `agency_id`."""

    from_category: str
    chosen_by: str | None
    to_category: str | None
    agency_id: str | None
    count: int


@dataclass(frozen=True)
class CorrectionRow:
    from_category: str
    from_category_name: str
    to_category: str | None
    to_category_name: str | None
    agency_id: str | None
    agency_name: str | None
    chosen_by: str | None
    count: int


@dataclass(frozen=True)
class FiledRow:
    """Of the reports filed as `category`, how many were corrected to another one."""

    category: str
    category_name: str
    filed: int
    corrected: int
    corrected_pct: float | None


@dataclass(frozen=True)
class Corrections:
    items: list[CorrectionRow]
    by_category: list[FiledRow]


def from_lines(lines: Iterable[RollupRow]) -> tuple[list[Corrected], Counter[str | None]]:
    """The corrections and the current count per category, of (admitted) `ALL` lines."""
    merged: Counter[tuple[str, str | None, str | None, str | None]] = Counter()
    now_in: Counter[str | None] = Counter()
    for line in lines:
        now_in[line.key.category] += int(line.get("n"))
        for (source, chosen_by), n in line.corrected_from():
            merged[(source, chosen_by, line.key.category, line.key.agency_id)] += n
    return [Corrected(*key, n) for key, n in merged.items() if n], now_in


def table(
    corrected: Iterable[Corrected],
    now_in: Mapping[str | None, int],
    category_name: Callable[[str], str],
    agency_name: Callable[[str], str],
) -> Corrections:
    """The rows shown: corrections (most first) and the share corrected per filed category."""
    corrected = list(corrected)
    out_of: Counter[str] = Counter()
    into: Counter[str | None] = Counter()
    for c in corrected:
        out_of[c.from_category] += c.count
        into[c.to_category] += c.count
    items = [
        CorrectionRow(
            from_category=c.from_category,
            from_category_name=category_name(c.from_category),
            to_category=c.to_category,
            to_category_name=None if c.to_category is None else category_name(c.to_category),
            agency_id=c.agency_id,
            agency_name=None if c.agency_id is None else agency_name(c.agency_id),
            chosen_by=c.chosen_by,
            count=c.count,
        )
        for c in sorted(corrected, key=lambda c: (-c.count, _text(c)))
    ]
    codes = {k for k in now_in if k is not None} | set(out_of)
    filed = {k: now_in.get(k, 0) - into[k] + out_of[k] for k in codes}
    by_category = [
        FiledRow(k, category_name(k), filed[k], out_of[k], pct(out_of[k], filed[k]))
        for k in sorted(codes, key=lambda k: (-out_of[k], -filed[k], k))
        if filed[k] > 0
    ]
    return Corrections(items, by_category)


def _text(c: Corrected) -> tuple[str, ...]:
    return (c.from_category, c.to_category or "", c.agency_id or "", c.chosen_by or "")
