"""A batch of events becomes facts and rollups, however the events are split into batches,
ordered or repeated (against in-memory stores)."""

from __future__ import annotations

import random
from collections.abc import Sequence
from zoneinfo import ZoneInfo

import pytest

from services.analytics.domain.rollups import ALL, RollupKey, rebuilt
from services.analytics.usecases.events import ProjectEvents
from shared.events import CloudEvent
from shared.uow import FakeTransactions
from tests.analytics.factory import Story, full_story, stories
from tests.analytics.fakes import FakeFacts, FakeRollups

HUE = ZoneInfo("Asia/Ho_Chi_Minh")
CELL = 0.01


class Projection:
    def __init__(self) -> None:
        self.facts, self.rollups = FakeFacts(), FakeRollups()
        self.transactions = FakeTransactions()
        self.changes = 0
        self.use_case = ProjectEvents(
            self.facts, self.rollups, HUE, CELL, ready=lambda: None, changed=self.changed
        )

    def changed(self) -> None:
        self.changes += 1

    async def batch(self, events: Sequence[CloudEvent]) -> int:
        pairs = [(e.type, e) for e in events]
        return await self.transactions.run(lambda uow: self.use_case(pairs, uow))


def all_events() -> list[CloudEvent]:
    return [e for s in stories() for e in s.events]


async def test_a_batch_of_one_gives_the_reports_fact() -> None:
    p = Projection()
    assert await p.batch(full_story("r1").events[:1]) == 1
    fact = p.facts.fact("r1")
    assert fact is not None
    assert (fact.status, fact.category, fact.n_events) == ("received", "pothole", 1)


async def test_the_whole_batch_is_one_read_and_two_writes() -> None:
    p = Projection()
    await p.batch(all_events())
    assert (p.facts.reads, p.rollups.writes, p.transactions.commits) == (1, 1, 1)


async def test_duplicates_within_a_batch_count_once() -> None:
    p, events = Projection(), full_story("r1").events
    await p.batch(events + events[:3])
    fact = p.facts.fact("r1")
    assert (fact and fact.n_events) == len(events)
    [line] = [c for k, c in p.rollups.nonzero().items() if k.kind == ALL]
    assert line["n"] == 1


async def test_an_event_already_stored_changes_nothing() -> None:
    p, events = Projection(), full_story("r1").events
    await p.batch(events)
    before = (dict(p.facts.docs), p.rollups.nonzero())
    assert await p.batch(events[2:4]) == 0
    assert (dict(p.facts.docs), p.rollups.nonzero(), p.rollups.writes) == (*before, 1)


@pytest.mark.parametrize("seed", range(5))
async def test_any_split_and_order_gives_the_facts_and_rollups_of_all_at_once(seed: int) -> None:
    events = all_events()
    at_once = Projection()
    await at_once.batch(events)
    rng, shuffled = random.Random(seed), events + random.Random(seed).sample(events, 6)
    rng.shuffle(shuffled)
    split = Projection()
    while shuffled:
        size = rng.randint(1, 5)
        await split.batch(shuffled[:size])
        shuffled = shuffled[size:]
    assert {r: h.fact for r, h in split.facts.docs.items()} == {
        r: h.fact for r, h in at_once.facts.docs.items()
    }
    assert _rounded(split.rollups.nonzero()) == _rounded(at_once.rollups.nonzero())


async def test_rollups_always_equal_those_rebuilt_from_the_facts() -> None:
    p = Projection()
    for e in all_events():
        await p.batch([e])
    facts = [h.fact for h in p.facts.docs.values() if h.fact is not None]
    expected = {k: c for k, c in rebuilt(facts, CELL).lines()}
    assert _rounded(p.rollups.nonzero()) == _rounded(expected)


async def test_a_fact_that_changes_moves_its_contribution() -> None:
    p, story = Projection(), Story("r").created()
    await p.batch(story.events)
    await p.batch(story.assigned(5, "water").events[-1:])
    statuses = {k.status: c["n"] for k, c in p.rollups.nonzero().items() if k.kind == ALL}
    assert statuses == {"assigned": 1}


async def test_the_gauges_hear_of_a_change_only_after_the_commit() -> None:
    p = Projection()
    await p.batch(full_story("r1").events[:1])
    assert p.changes == 1
    await p.batch(full_story("r1").events[:0])
    assert p.changes == 1


async def test_nothing_is_written_while_the_rollups_are_not_ready() -> None:
    facts, rollups = FakeFacts(), FakeRollups()

    def not_ready() -> None:
        raise ConnectionError("rollups being built")

    use_case = ProjectEvents(facts, rollups, HUE, CELL, ready=not_ready, changed=lambda: None)
    event = full_story("r1").events[0]
    with pytest.raises(ConnectionError):
        await FakeTransactions().run(lambda uow: use_case([(event.type, event)], uow))
    assert (facts.docs, rollups.lines) == ({}, {})


def _rounded(lines: dict[RollupKey, dict[str, float]]) -> dict[RollupKey, dict[str, float]]:
    return {k: {n: round(v, 6) for n, v in c.items() if round(v, 6)} for k, c in lines.items()}
