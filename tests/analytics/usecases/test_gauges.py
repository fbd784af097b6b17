"""The business gauges take their values from the statistics, by agency."""

from __future__ import annotations

import asyncio
import math
from datetime import UTC, datetime

from prometheus_client import CollectorRegistry

from services.analytics.domain.figures import Totals
from services.analytics.domain.stats import GridLimits
from services.analytics.usecases.gauges import BusinessGauges, BusinessMetrics
from services.analytics.usecases.statistics import Statistics
from tests.analytics.fakes import FakeAggregations, FakeCatalog, group

NOW = datetime(2025, 3, 3, 12, tzinfo=UTC)


def gauges(facts: FakeAggregations) -> tuple[BusinessGauges, CollectorRegistry]:
    registry = CollectorRegistry()
    statistics = Statistics(facts, FakeCatalog(), lambda: NOW, GridLimits(0.01, 0.001, 10))
    return BusinessGauges(statistics, BusinessMetrics(registry), lambda: NOW, 1.0), registry


def value(registry: CollectorRegistry, name: str, agency: str | None = None) -> float | None:
    labels = {"agency": agency} if agency else None
    return registry.get_sample_value(name, labels)


async def test_gauges_hold_each_agencys_backlog_overdue_and_on_time_ratio() -> None:
    facts = FakeAggregations(
        agencies=[group("water", backlog=2, overdue=1, on_time=1, deadline_known=4)]
    )
    g, registry = gauges(facts)
    await g.refresh()
    assert value(registry, "analytics_open_reports", "water") == 2
    assert value(registry, "analytics_overdue_assignments", "water") == 1
    assert value(registry, "analytics_on_time_ratio", "water") == 0.25


async def test_an_agency_gone_from_the_scoreboard_loses_its_gauges() -> None:
    facts = FakeAggregations(agencies=[group("dot", backlog=1)])
    g, registry = gauges(facts)
    await g.refresh()
    facts.agencies = [group("water", backlog=3)]
    await g.refresh()
    assert (
        value(registry, "analytics_open_reports", "dot"),
        value(registry, "analytics_open_reports", "water"),
    ) == (None, 3)


async def test_overall_ratio_is_nan_until_a_deadline_is_known() -> None:
    facts = FakeAggregations()
    g, registry = gauges(facts)
    await g.refresh()
    assert math.isnan(value(registry, "analytics_on_time_ratio_overall") or 0.0)
    facts.totals = Totals(on_time=3, deadline_known=4)
    await g.refresh()
    assert value(registry, "analytics_on_time_ratio_overall") == 0.75


async def test_refresh_time_is_the_clocks() -> None:
    g, registry = gauges(FakeAggregations())
    await g.refresh()
    assert value(registry, "analytics_gauges_refreshed_timestamp_seconds") == NOW.timestamp()


async def test_without_a_change_the_gauges_wait_for_the_long_interval() -> None:
    facts = FakeAggregations()
    g, _ = gauges(facts)
    g.interval_s, g.idle_s = 0.02, 0.5
    stop = asyncio.Event()
    task = asyncio.create_task(g.run(stop))
    await asyncio.sleep(0.2)
    quiet = len(facts.calls)
    g.changed()
    await asyncio.sleep(0.1)
    changed = len(facts.calls)
    stop.set()
    await task
    assert (quiet, changed) == (2, 4)  # one refresh (summary + scoreboard), then one more


async def test_the_gauges_read_no_percentiles() -> None:
    facts = FakeAggregations(agencies=[group("dot", backlog=1)])
    g, _ = gauges(facts)
    await g.refresh()
    assert facts.percentiles == [()]
