"""Rollup rules: what a fact contributes, how a change moves it, and exact percentiles read
from one histogram bucket per rank."""

from __future__ import annotations

import random
from zoneinfo import ZoneInfo

import pytest

from services.analytics.domain import tallies
from services.analytics.domain.facts import build_fact
from services.analytics.domain.rollups import (
    ALL,
    CELL,
    CREATED,
    RESOLVED,
    Delta,
    RollupKey,
    RollupRow,
    cell_of,
    rebuilt,
    resolve_bucket,
)
from services.analytics.domain.stats import Filters, percentile
from tests.analytics.factory import Story, full_story, stories

HUE = ZoneInfo("Asia/Ho_Chi_Minh")


def test_a_resolved_fact_counts_in_every_kind_of_line() -> None:
    fact = build_fact("r1", full_story("r1").records(), HUE)
    kinds = {k.kind: c for k, c in rebuilt([fact], 0.01).lines()}
    assert set(kinds) == {ALL, CREATED, RESOLVED, CELL}
    assert kinds[ALL]["n"] == 1
    assert kinds[ALL][f"h{resolve_bucket(2400.0)}"] == 1
    assert (kinds[ALL]["resolve_sum"], kinds[ALL]["on_time"], kinds[ALL]["rating_sum"]) == (
        2400.0,
        1,
        4,
    )


def test_an_unchanged_fact_moves_nothing() -> None:
    fact = build_fact("r1", full_story("r1").records(), HUE)
    delta = Delta(0.01)
    delta.move(fact, fact)
    assert delta.lines() == []


def test_a_status_change_moves_one_report_between_lines() -> None:
    story = Story("r").created()
    before = build_fact("r", story.records(), HUE)
    after = build_fact("r", story.assigned(5).records(), HUE)
    delta = Delta(0.01)
    delta.move(before, after)
    moved = {(k.kind, k.status, k.agency_id): c.get("n") for k, c in delta.lines()}
    assert moved[(ALL, "received", None)] == -1
    assert moved[(ALL, "assigned", "dot")] == 1


def test_buckets_grow_with_the_time() -> None:
    times = sorted(random.Random(1).uniform(0, 3e7) for _ in range(2000))
    buckets = [resolve_bucket(t) for t in times]
    assert buckets == sorted(buckets)


def test_the_cell_is_the_databases_floor() -> None:
    assert cell_of(16.4649, 107.5901, 0.01) == (1646, 10759)
    assert cell_of(-0.001, 0.0, 0.01) == (-1, 0)


@pytest.mark.parametrize("n", [1, 2, 3, 10, 333])
def test_percentiles_from_the_buckets_of_their_ranks_are_exact(n: int) -> None:
    rng = random.Random(n)
    times = [rng.choice([rng.uniform(0, 600), rng.uniform(0, 86400 * 30)]) for _ in range(n)]
    rows = [RollupRow(_key(), {"n": 1, f"h{resolve_bucket(t)}": 1}) for t in times]
    hist = tallies.histogram(rows)
    wanted = tallies.buckets_for(hist, (50, 90))
    in_bucket = {b: [t for t in times if resolve_bucket(t) == b] for b in set(wanted.values())}
    ranked = tallies.times_at_ranks(hist, wanted, in_bucket)
    assert (percentile(ranked, 50), percentile(ranked, 90)) == (
        percentile(times, 50),
        percentile(times, 90),
    )


def test_a_bucket_that_lost_a_time_gives_no_percentile() -> None:
    hist = {3: 2}
    ranked = tallies.times_at_ranks(hist, {1: 3}, {3: [5.0]})
    assert percentile(ranked, 50) is None


def test_lines_narrowed_to_the_filters() -> None:
    facts = [build_fact(s.report_id, s.records(), HUE) for s in stories()]
    lines = [RollupRow(k, c) for k, c in rebuilt(facts, 0.01).lines() if k.kind == ALL]
    water = tallies.admitted(lines, Filters(agencies=("water",)))
    assert tallies.totals(water, 0).total == 2
    assert tallies.breakdown(tallies.admitted(lines, Filters())).by_status == {
        "closed": 1,
        "resolved": 2,
        "assigned": 1,
        "received": 1,
    }


def _key() -> RollupKey:
    return RollupKey(ALL, "pothole", "dot", None, status="resolved")
