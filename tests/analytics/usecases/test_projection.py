"""The projector against in-memory stores: dirty reports become facts, marks are cleared."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from services.analytics.usecases.projection import Projector
from tests.analytics.factory import Story, full_story
from tests.analytics.fakes import FakeEventLog, FakeFactStore

HUE = ZoneInfo("Asia/Ho_Chi_Minh")


def projector(log: FakeEventLog, facts: FakeFactStore, batch_size: int = 10) -> Projector:
    return Projector(log, facts, HUE, interval_s=1.0, batch_size=batch_size)


async def logged(*stories: Story) -> FakeEventLog:
    log = FakeEventLog()
    for story in stories:
        for record in story.records():
            await log.record(story.report_id, record)
    return log


async def test_a_dirty_report_gets_its_fact_and_its_mark_cleared() -> None:
    log, facts = await logged(full_story("r1")), FakeFactStore()
    assert await projector(log, facts).run_once() == 1
    assert (facts.facts["r1"].status, facts.facts["r1"].n_events) == ("closed", 6)
    assert await log.pending_count() == 0


async def test_one_pass_projects_at_most_a_batch() -> None:
    log, facts = await logged(*(Story(f"r{i}").created() for i in range(3))), FakeFactStore()
    p = projector(log, facts, batch_size=2)
    assert (await p.run_once(), await p.pending()) == (2, 1)
    assert (await p.run_once(), await p.pending()) == (1, 0)


async def test_an_event_recorded_during_the_pass_keeps_the_report_marked() -> None:
    first, later = Story("r").created().assigned(5).records()
    log, facts = FakeEventLog(), FakeFactStore()
    await log.record("r", first)
    log.arriving.append(("r", later))
    await projector(log, facts).run_once()
    assert (facts.facts["r"].status, await log.pending_count()) == ("received", 1)
    await projector(log, facts).run_once()
    assert (facts.facts["r"].status, await log.pending_count()) == ("assigned", 0)


async def test_a_mark_without_events_is_cleared_without_a_fact() -> None:
    log, facts = FakeEventLog(), FakeFactStore()
    log.dirty["ghost"] = "e1"
    await projector(log, facts).run_once()
    assert (facts.facts, log.dirty) == ({}, {})
