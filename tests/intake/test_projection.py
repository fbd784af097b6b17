"""Status projection: same result whatever the order of topics and however often events come."""

from __future__ import annotations

import itertools
from datetime import timedelta
from typing import Any

from services.intake.domain.projection import CONSUMED, PRODUCED, Fact, apply, project
from services.intake.domain.report import Report
from shared.events import REPORT_TOPICS, Status, Topic
from tests.intake.fakes import ROUTING, T0, a_report


def fact(seq: int, status: Status | None, **kw: Any) -> Fact:
    return Fact(
        event_id=f"e{seq}",
        report_id="r1",
        type="t",
        source=ROUTING,
        sequence=seq,
        at=T0 + timedelta(minutes=seq),
        status=status,
        **kw,
    )


ASSIGNED = fact(
    1, Status.ASSIGNED, agency_id="a1", agency_name="Roads", due_at=T0 + timedelta(days=3)
)
STARTED = fact(2, Status.IN_PROGRESS, agency_id="a1")
RESOLVED = fact(3, Status.RESOLVED, agency_id="a1", note="patched")


def replay(facts: list[Fact]) -> Report:
    report = a_report()
    for f in facts:
        report, _ = project(report, f, T0)
    return report


def test_in_order_events_end_resolved_with_agency() -> None:
    report = replay([ASSIGNED, STARTED, RESOLVED])
    assert (report.status, report.agency_name, report.status_notes) == (
        Status.RESOLVED,
        "Roads",
        "patched",
    )


def test_every_order_gives_the_same_status_and_agency() -> None:
    outcomes = {
        (r.status, r.agency_id, r.expected_at)
        for r in (replay(list(p)) for p in itertools.permutations([ASSIGNED, STARTED, RESOLVED]))
    }
    assert outcomes == {(Status.RESOLVED, "a1", T0 + timedelta(days=3))}


def test_duplicate_delivery_changes_nothing_more() -> None:
    assert replay([ASSIGNED, RESOLVED, ASSIGNED, RESOLVED]) == replay([ASSIGNED, RESOLVED])


def test_older_status_is_not_applied_but_reported_as_not_applied() -> None:
    report = replay([ASSIGNED, RESOLVED])
    after, applied = project(report, STARTED, T0)
    assert not applied
    assert after.status == Status.RESOLVED


def test_escalation_flags_overdue_without_changing_status() -> None:
    report = replay([ASSIGNED, fact(2, None, agency_id="a1", escalated=True)])
    assert (report.status, report.overdue) == (Status.ASSIGNED, True)


def test_reassignment_replaces_agency_and_clears_overdue() -> None:
    later = fact(4, Status.ASSIGNED, agency_id="a2", agency_name="Ward 3", due_at=T0)
    report = replay([ASSIGNED, fact(2, None, agency_id="a1", escalated=True), later])
    assert (report.agency_id, report.overdue) == ("a2", False)


def test_sequences_are_kept_per_source() -> None:
    other = Fact("x1", "r1", "t", "/fieldreports/ops", 1, T0, Status.IN_PROGRESS)
    report = replay([ASSIGNED, RESOLVED])
    after, applied = project(report, other, T0)
    assert applied
    assert after.seq == {"fieldreports_routing": 3, "fieldreports_ops": 1}


def test_an_event_that_changed_nothing_is_still_in_the_timeline_without_status() -> None:
    report = apply(replay([ASSIGNED, RESOLVED]), STARTED, T0)
    assert [(e.event_id, e.status) for e in report.timeline] == [("e2", None)]


def test_intake_consumes_every_report_topic_it_does_not_produce() -> None:
    assert set(CONSUMED) | set(PRODUCED) == set(REPORT_TOPICS)
    assert Topic.REPORT_ASSIGNED in CONSUMED
    assert not set(CONSUMED) & set(PRODUCED)
