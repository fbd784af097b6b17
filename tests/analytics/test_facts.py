"""The per-report fact: the same whatever the order of events, duplicates changing nothing."""

from __future__ import annotations

import itertools
import random
from datetime import timedelta
from zoneinfo import ZoneInfo

from services.analytics.domain.facts import Fact, build_fact
from tests.analytics.factory import Story, at, full_story

HUE = ZoneInfo("Asia/Ho_Chi_Minh")


def fact_of(story: Story) -> Fact:
    return build_fact(story.report_id, story.records(), HUE)


def test_every_permutation_of_a_reports_events_gives_the_same_fact() -> None:
    records = full_story().records()
    facts = {repr(build_fact("r1", list(p), HUE)) for p in itertools.permutations(records)}
    assert len(facts) == 1


def test_duplicates_change_nothing() -> None:
    records = full_story().records()
    shuffled = records * 3
    random.Random(7).shuffle(shuffled)
    assert build_fact("r1", shuffled, HUE) == build_fact("r1", records, HUE)


def test_full_story_fields() -> None:
    fact = fact_of(full_story())
    assert (fact.status, fact.agency_id, fact.category) == ("closed", "dot", "pothole")
    assert (fact.assigned_at, fact.started_at, fact.resolved_at) == (at(5), at(10), at(40))
    assert (fact.time_to_assign_s, fact.time_to_resolve_s) == (300.0, 2400.0)
    assert (fact.on_time, fact.rating) == (True, 4)


def test_created_day_is_the_citys_local_day() -> None:
    fact = fact_of(Story("r").created(created_minute=-120))  # 23:00 UTC on Sunday = Monday 06:00
    assert (fact.created_day, fact.created_week) == ("2025-03-03", "2025-03-03")


def test_resolved_after_due_time_is_late() -> None:
    fact = fact_of(Story("r").created().assigned(5, due_minute=30).resolved(40))
    assert fact.on_time is False


def test_routings_on_time_flag_wins_when_given() -> None:
    fact = fact_of(Story("r").created().assigned(5, due_minute=30).resolved(40, on_time=True))
    assert fact.on_time is True


def test_first_assignment_time_and_latest_agency_by_sequence() -> None:
    story = Story("r").created().assigned(5, "dot").assigned(9, "water", attempt=2)
    fact = fact_of(story)
    assert (fact.assigned_at, fact.agency_id, fact.attempts) == (at(5), "water", 2)


def test_assignment_before_creation_event_still_counts_category() -> None:
    fact = fact_of(Story("r", category="flood").assigned(5))
    assert (fact.category, fact.status, fact.created_at) == ("flood", "assigned", None)


def test_reannounced_creation_does_not_undo_assignment() -> None:
    story = Story("r").created().assigned(5).created(minute=120)
    assert fact_of(story).status == "assigned"


def test_reopen_after_resolution_is_received_until_assigned_again() -> None:
    story = Story("r").created().assigned(5).resolved(40).reopened(60)
    assert fact_of(story).status == "received"
    assert fact_of(story.assigned(70, attempt=2)).status == "assigned"


def test_reopened_report_is_not_counted_as_resolved() -> None:
    fact = fact_of(Story("r").created().assigned(5).resolved(40).reopened(60))
    assert (fact.reopen_count, fact.time_to_resolve_s, fact.on_time) == (1, None, None)


def test_older_routing_event_does_not_override_newer_status() -> None:
    story = Story("r").created().assigned(5).started(10).resolved(40)
    late_start = story.records()
    fact = build_fact("r", [late_start[0], late_start[3], late_start[2], late_start[1]], HUE)
    assert fact.status == "resolved"


def test_escalations_counted_once_per_breach() -> None:
    story = Story("r").created().assigned(5).escalated(61)
    records = [*story.records(), story.records()[-1]]
    assert build_fact("r", records, HUE).escalations == 1


def test_contact_is_never_part_of_the_fact() -> None:
    assert "sealed-secret" not in repr(fact_of(full_story()))


def test_random_interleavings_of_a_long_story_agree() -> None:
    story = (
        Story("r")
        .created()
        .assigned(5)
        .escalated(61)
        .assigned(62, "water", attempt=2)
        .started(70, "water", 2)
        .resolved(90, "water", 2)
        .reopened(100)
        .assigned(101, "water", 3)
        .resolved(130, "water", 3)
        .rated(140, 2)
        .closed(140.1)
    )
    records = story.records()
    expected = build_fact("r", records, HUE)
    rng = random.Random(1)
    for _ in range(300):
        sample = records + rng.sample(records, 3)
        rng.shuffle(sample)
        assert build_fact("r", sample, HUE) == expected
    assert (expected.status, expected.agency_id, expected.reopen_count) == (
        "closed",
        "water",
        1,
    )
    assert expected.time_to_resolve_s == timedelta(minutes=130).total_seconds()
