"""Percentiles, on-time ratio, sorting, buckets; the filters' `$match` and the CSV encoding."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date

from services.analytics.api.formats import to_csv
from services.analytics.domain.stats import (
    Filters,
    bucket_keys,
    fill_series,
    pct,
    percentile,
    scoreboard_row,
    sort_rows,
)
from services.analytics.stores.windowed import match
from tests.analytics.fakes import group


def test_median_of_odd_and_even_counts() -> None:
    assert (percentile([3, 1, 2], 50), percentile([1, 2, 3, 4], 50)) == (2, 2.5)


def test_p90_interpolates_between_ranks() -> None:
    assert percentile(list(range(1, 11)), 90) == 9.1


def test_percentile_of_nothing_is_none() -> None:
    assert percentile([], 90) is None


def test_on_time_pct_rounds_and_handles_zero() -> None:
    assert (pct(2, 3), pct(0, 0)) == (66.7, None)


def test_scoreboard_row_ignores_unresolved_durations() -> None:
    dot = group(
        "dot", received=3, resolved=2, on_time=1, deadline_known=2, durations=(100, None, 300)
    )
    row = scoreboard_row(dot, "DOT")
    assert (row.median_time_to_resolve_s, row.resolved_on_time_pct) == (200.0, 50.0)


@dataclass
class Row:
    id: str
    v: int | None


def test_sort_puts_missing_values_last_both_ways() -> None:
    rows = [Row("a", None), Row("b", 1), Row("c", 2)]
    assert [r.id for r in sort_rows(rows, "v", True, "id")] == ["c", "b", "a"]
    assert [r.id for r in sort_rows(rows, "v", False, "id")] == ["b", "c", "a"]


def test_week_buckets_start_on_monday() -> None:
    assert bucket_keys(date(2025, 3, 5), date(2025, 3, 12), "week") == ["2025-03-03", "2025-03-10"]


def test_series_fills_empty_days_with_zero() -> None:
    points = fill_series({"2025-03-01": 2}, {"2025-03-03": 1}, "day", None, None)
    assert [(p.created, p.resolved) for p in points] == [(2, 0), (0, 0), (0, 1)]


def test_filters_become_a_match() -> None:
    f = Filters(date(2025, 3, 1), None, ("pothole",), ("dot", "water"))
    assert match(f) == {
        "created_day": {"$gte": "2025-03-01"},
        "category": "pothole",
        "agency_id": {"$in": ["dot", "water"]},
    }


def test_csv_has_header_and_empty_cells_for_missing() -> None:
    text = to_csv([{"a": 1, "b": None}], ("a", "b"))
    assert list(csv.reader(io.StringIO(text))) == [["a", "b"], ["1", ""]]
