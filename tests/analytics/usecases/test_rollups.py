"""The rollups are built from the facts when their rules or grid cell changed, else kept."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from services.analytics.domain.facts import build_fact
from services.analytics.domain.history import History
from services.analytics.domain.rollups import ROLLUP_VERSION, RollupBasis, rebuilt
from services.analytics.usecases.rollups import BuildRollups
from tests.analytics.factory import stories
from tests.analytics.fakes import FakeFacts, FakeRollups

HUE = ZoneInfo("Asia/Ho_Chi_Minh")
BASIS = RollupBasis(ROLLUP_VERSION, 0.01)


def stored_facts() -> FakeFacts:
    facts = FakeFacts()
    for s in stories():
        records = tuple(s.records())
        facts.docs[s.report_id] = History(build_fact(s.report_id, records, HUE), records)
    return facts


class Opened:
    def __init__(self) -> None:
        self.times = 0

    def __call__(self) -> None:
        self.times += 1


async def test_rollups_of_another_basis_are_rebuilt_from_the_facts() -> None:
    facts, rollups, opened = stored_facts(), FakeRollups(RollupBasis(0, 0.01)), Opened()
    assert await BuildRollups(facts, rollups, BASIS, opened).ensure()
    expected = dict(rebuilt([h.fact for h in facts.docs.values() if h.fact], 0.01).lines())
    assert (rollups.nonzero(), rollups.stored_basis, opened.times) == (expected, BASIS, 1)


async def test_rollups_of_this_basis_are_kept_as_they_are() -> None:
    facts, rollups, opened = stored_facts(), FakeRollups(BASIS), Opened()
    assert not await BuildRollups(facts, rollups, BASIS, opened).ensure()
    assert (rollups.lines, rollups.writes, opened.times) == ({}, 0, 1)


async def test_a_new_database_gets_empty_rollups_of_this_basis() -> None:
    rollups = FakeRollups()
    await BuildRollups(FakeFacts(), rollups, BASIS).ensure()
    assert (rollups.lines, rollups.stored_basis) == ({}, BASIS)
