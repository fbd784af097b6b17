"""The statistics queries against canned aggregations: names, sorting, buckets, grid bounds."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from services.analytics.domain.corrections import Corrected
from services.analytics.domain.errors import InvalidDateRange
from services.analytics.domain.figures import Breakdown, CellCount, Totals
from services.analytics.domain.stats import Filters, GridLimits
from services.analytics.usecases.statistics import Statistics
from shared.catalog import CatalogV1
from tests.analytics.factory import catalog_event
from tests.analytics.fakes import FakeAggregations, FakeCatalog, group

NOW = datetime(2025, 3, 3, 12, tzinfo=UTC)
LIMITS = GridLimits(default_cell=0.01, min_cell=0.001, max_cells=3)


def statistics(facts: FakeAggregations, with_catalog: bool = True) -> Statistics:
    catalog = catalog_event(2, "Department of Transport").payload(CatalogV1)
    copy = FakeCatalog(catalog if with_catalog else None)
    return Statistics(facts, copy, lambda: NOW, LIMITS)


async def test_summary_names_agencies_in_the_requested_language() -> None:
    facts = FakeAggregations(breakdown=Breakdown(by_agency={"dot": 2, "parks": 1}))
    summary = await statistics(facts).summary(Filters(), "en")
    assert summary.agency_names == {"dot": "Department of Transport", "parks": "parks"}


async def test_summary_leaves_out_reports_of_unknown_category() -> None:
    facts = FakeAggregations(breakdown=Breakdown(by_category={"pothole": 2, None: 1}))
    assert (await statistics(facts).summary(Filters(), "vi")).by_category == {"pothole": 2}


async def test_summary_means_and_on_time_pct() -> None:
    totals = Totals(total=3, assign_sum=900, assign_n=2, on_time=2, deadline_known=3)
    summary = await statistics(FakeAggregations(totals=totals)).summary(Filters(), "vi")
    assert (summary.mean_time_to_assign_s, summary.resolved_on_time_pct) == (450.0, 66.7)
    assert (summary.mean_time_to_resolve_s, summary.mean_rating) == (None, None)


async def test_overdue_is_counted_at_the_clocks_now_unless_given() -> None:
    facts, later = FakeAggregations(), datetime(2025, 3, 4, tzinfo=UTC)
    await statistics(facts).summary(Filters(), "vi")
    await statistics(facts).scoreboard(Filters(), "vi", now=later)
    assert facts.calls == [("summary", NOW), ("by_agency", later)]


async def test_scoreboard_names_from_catalogue_else_routings_name_else_the_id() -> None:
    facts = FakeAggregations(
        agencies=[
            group("dot", fallback_name="DOT"),
            group("parks", fallback_name="Parks"),
            group("zoo"),
        ]
    )
    rows = await statistics(facts).scoreboard(Filters(), "en", "agency_id", descending=False)
    assert [r.agency_name for r in rows] == ["Department of Transport", "Parks", "zoo"]


async def test_scoreboard_sorts_by_the_column_with_missing_values_last() -> None:
    facts = FakeAggregations(
        agencies=[
            group("a", on_time=1, deadline_known=2),
            group("b"),
            group("c", on_time=2, deadline_known=2),
        ]
    )
    rows = await statistics(facts).scoreboard(Filters(), "en", descending=False)
    assert [(r.agency_id, r.resolved_on_time_pct) for r in rows] == [
        ("a", 50.0),
        ("c", 100.0),
        ("b", None),
    ]


async def test_scoreboard_median_and_p90_ignore_unresolved_reports() -> None:
    facts = FakeAggregations(agencies=[group("dot", durations=(100.0, None, 300.0))])
    [row] = await statistics(facts).scoreboard(Filters(), "en")
    assert (row.median_time_to_resolve_s, row.p90_time_to_resolve_s) == (200.0, 280.0)


async def test_categories_use_catalogue_names_most_reports_first() -> None:
    facts = FakeAggregations(categories=[group("flood", received=1), group("pothole", received=3)])
    rows = await statistics(facts).categories(Filters(), "vi")
    assert [(r.category, r.category_name) for r in rows] == [("pothole", "Ổ gà"), ("flood", "Ngập")]


async def test_timeseries_has_every_day_between_the_filter_bounds() -> None:
    facts = FakeAggregations(created={"2025-03-02": 2})
    bounds = Filters(date(2025, 3, 1), date(2025, 3, 3))
    points = await statistics(facts).timeseries(bounds, "day")
    assert [(p.period, p.created) for p in points] == [
        ("2025-03-01", 0),
        ("2025-03-02", 2),
        ("2025-03-03", 0),
    ]


async def test_grid_cell_size_and_count_are_clamped() -> None:
    facts = FakeAggregations()
    await statistics(facts).grid(Filters(), cell=0.0000001, limit=50)
    await statistics(facts).grid(Filters(), cell=5.0)
    await statistics(facts).grid(Filters())
    assert [c for _, c in facts.calls] == [(0.001, 3), (1.0, 3), (0.01, 3)]


async def test_grid_says_when_cells_were_left_out() -> None:
    facts = FakeAggregations(cells=[CellCount(i, 0, 5 - i) for i in range(5)])
    grid = await statistics(facts).grid(Filters(), cell=0.5)
    assert (grid.cells_total, grid.truncated, [c.count for c in grid.cells]) == (5, True, [5, 4, 3])
    assert (grid.cells[1].west, grid.cells[1].east, grid.cells[1].lon) == (0.5, 1.0, 0.75)


def test_filters_refuse_a_range_that_ends_before_it_starts() -> None:
    with pytest.raises(InvalidDateRange) as refused:
        Filters(date(2025, 3, 5), date(2025, 3, 1))
    assert (refused.value.code, refused.value.message) == (
        "validation_error",
        "`from` is after `to`",
    )


async def test_corrections_are_named_in_the_requested_language() -> None:
    corrected = [Corrected("pothole", "resident", "flood", "dot", 2)]
    facts = FakeAggregations(corrected=corrected, now_in={"flood": 2, "pothole": 2})
    result = await statistics(facts).corrections(Filters(), "en")
    row = result.items[0]
    assert (row.from_category_name, row.to_category_name, row.agency_name, row.count) == (
        "Pothole",
        "Flooding",
        "Department of Transport",
        2,
    )
    assert [(r.category, r.corrected_pct) for r in result.by_category] == [("pothole", 50.0)]
