"""Routing's domain rules, with no I/O."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from services.routing.domain.assignment import (
    SYSTEM,
    Action,
    Actor,
    AState,
    new_assignment,
)
from services.routing.domain.errors import InvalidDuplicate, InvalidTransition
from services.routing.domain.jurisdiction import AreaHit, choose, parse
from services.routing.settings import DEMO_JURISDICTION

T0 = datetime(2026, 1, 1, 8, 0, tzinfo=UTC)
DOC: dict[str, Any] = json.loads(DEMO_JURISDICTION.read_text(encoding="utf-8"))
J = parse(DOC)
WARD = AreaHit("phu-hoi", "ward")
DISTRICT = AreaHit("thuan-hoa", "district")
PROVINCE = AreaHit("hue-province", "province")


def doc(**changes: Any) -> dict[str, Any]:
    d = copy.deepcopy(DOC)
    d.update(changes)
    return d


def assignment(**kw: Any):
    args = {
        "assignment_id": "a1",
        "report_id": "r1",
        "category": "pothole",
        "lon": 107.59,
        "lat": 16.46,
        "agency_id": "transport-dept",
        "at": T0,
        "due_at": T0 + timedelta(hours=72),
        "reason": "rule",
        "rule_id": None,
        "area_id": None,
    }
    return new_assignment(**{**args, **kw})


def test_demo_jurisdiction_is_valid_and_labelled_demo() -> None:
    assert J.demo
    assert "DEMO" in (J.notice or "")


def test_ward_rule_beats_district_and_province() -> None:
    decision = choose(J, "sidewalk-encroachment", [PROVINCE, DISTRICT, WARD])
    assert (decision.agency_id, decision.area_id) == ("phu-hoi-ward", "phu-hoi")


def test_district_rule_when_ward_has_none() -> None:
    other_ward = AreaHit("somewhere", "ward")
    assert choose(J, "sidewalk-encroachment", [other_ward, DISTRICT]).agency_id == (
        "thuan-hoa-district"
    )


def test_province_rule_applies_inside_wards() -> None:
    assert choose(J, "pothole", [WARD, DISTRICT, PROVINCE]).agency_id == "transport-dept"


def test_anywhere_rule_applies_outside_every_area() -> None:
    decision = choose(J, "garbage", [])
    assert (decision.agency_id, decision.reason, decision.area_id) == ("hue-urenco", "rule", None)


def test_no_rule_falls_back_to_ioc() -> None:
    decision = choose(J, "sidewalk-encroachment", [])
    assert (decision.agency_id, decision.reason) == ("ioc", "fallback")


def test_unknown_category_falls_back_to_ioc() -> None:
    assert choose(J, "no-such-category", [WARD]).agency_id == "ioc"


def test_rejecters_are_skipped() -> None:
    hits = [WARD, DISTRICT, PROVINCE]
    assert choose(J, "sidewalk-encroachment", hits, ["phu-hoi-ward"]).agency_id == (
        "thuan-hoa-district"
    )


def test_all_rejected_goes_to_ioc() -> None:
    hits = [WARD, DISTRICT]
    rejected = ["phu-hoi-ward", "thuan-hoa-district"]
    assert choose(J, "sidewalk-encroachment", hits, rejected).agency_id == "ioc"


def test_overlapping_areas_of_one_level_break_ties_by_id() -> None:
    hits = [AreaHit("vinh-ninh", "ward"), AreaHit("phu-hoi", "ward")]
    assert choose(J, "illegal-construction", hits).agency_id == "phu-hoi-ward"
    assert choose(J, "illegal-construction", list(reversed(hits))).agency_id == "phu-hoi-ward"


def test_deadline_breach_detected_once() -> None:
    a = assignment()
    late = T0 + timedelta(hours=73)
    assert a.breached(late)
    a.escalate(late)
    assert not a.breached(late + timedelta(hours=1))


def test_new_due_time_after_transfer_can_breach_again() -> None:
    a = assignment()
    a.escalate(T0 + timedelta(hours=73))
    a.move_to(
        "hue-urenco",
        action=Action.TRANSFER,
        actor=Actor("transport-dept", "transport-dept"),
        at=T0 + timedelta(hours=74),
        due_at=T0 + timedelta(hours=75),
        reason="transfer",
    )
    assert a.breached(T0 + timedelta(hours=76))


def test_resolved_assignment_never_breaches() -> None:
    a = assignment()
    a.set_status(Action.RESOLVE, AState.RESOLVED, SYSTEM, T0)
    assert not a.breached(T0 + timedelta(days=30))


def test_accept_then_start_then_resolve_allowed() -> None:
    a = assignment()
    staff = Actor("transport-dept", "transport-dept")
    a.set_status(Action.ACCEPT, AState.ACCEPTED, staff, T0)
    a.set_status(Action.START, AState.IN_PROGRESS, staff, T0)
    a.set_status(Action.RESOLVE, AState.RESOLVED, staff, T0)
    assert [h["action"] for h in a.history] == ["route", "accept", "start", "resolve"]


def test_resolving_twice_refused() -> None:
    a = assignment()
    a.set_status(Action.RESOLVE, AState.RESOLVED, SYSTEM, T0)
    with pytest.raises(InvalidTransition):
        a.set_status(Action.RESOLVE, AState.RESOLVED, SYSTEM, T0)


def test_reject_after_work_started_refused() -> None:
    a = assignment()
    a.set_status(Action.START, AState.IN_PROGRESS, SYSTEM, T0)
    with pytest.raises(InvalidTransition):
        a.reject_by_agency(Actor("x", "transport-dept"), T0, "not ours", **_REROUTE)


def test_history_records_who_and_when_never_a_reporter() -> None:
    a = assignment()
    a.set_status(Action.ACCEPT, AState.ACCEPTED, Actor("transport-dept", "transport-dept"), T0)
    entry = a.history[-1]
    assert entry["by"] == {"sub": "transport-dept", "agency_id": "transport-dept"}
    assert entry["at"] == T0


_REROUTE: dict[str, Any] = {"jurisdiction": J, "hits": [], "due": lambda _: T0}


def test_reroute_increments_attempt_and_remembers_rejecter() -> None:
    a = assignment()
    a.reject_by_agency(Actor("transport-dept", "transport-dept"), T0, "not ours", **_REROUTE)
    assert (a.attempt, a.rejected_by, a.agency_id) == (2, ["transport-dept"], "ioc")


def test_rejection_records_who_when_and_why() -> None:
    a = assignment()
    later = T0 + timedelta(hours=2)
    a.reject_by_agency(Actor("lan", "transport-dept"), later, "district road", **_REROUTE)
    entry = a.history[-1]
    assert (entry["action"], entry["at"], entry["note"]) == ("reject", later, "district road")
    assert (entry["by"]["sub"], entry["from_agency"], a.assigned_at) == (
        "lan",
        "transport-dept",
        later,
    )


def test_rerouted_to_the_next_rule_agency_not_back_to_the_rejecter() -> None:
    a = assignment(category="sidewalk-encroachment", agency_id="phu-hoi-ward")
    a.reject_by_agency(
        Actor("x", "phu-hoi-ward"),
        T0,
        "x",
        jurisdiction=J,
        hits=[WARD, DISTRICT],
        due=lambda _: T0,
    )
    assert (a.agency_id, a.reason) == ("thuan-hoa-district", "reroute")


def test_the_triage_desk_cannot_reject() -> None:
    a = assignment(agency_id="ioc")
    with pytest.raises(InvalidTransition, match="triage desk"):
        a.reject_by_agency(Actor("ioc", "ioc"), T0, "x", **_REROUTE)
    assert (a.attempt, a.rejected_by) == (1, [])


def test_a_report_cannot_duplicate_itself() -> None:
    a = assignment()
    with pytest.raises(InvalidDuplicate):
        a.mark_duplicate(Actor("operator"), T0, a.report_id)
    assert a.status == AState.ASSIGNED


def test_resolve_reports_whether_it_was_on_time() -> None:
    a = assignment()
    late = a.due_at + timedelta(seconds=1)
    assert a.resolve(Actor("x"), late, "done", ["p1"]) is False
    assert (a.status, a.note, a.photo_ids) == (AState.RESOLVED, "done", ["p1"])


def test_reopen_ignored_while_open_or_when_stale() -> None:
    a = assignment()
    a.intake_seq = 3
    assert a.reopen_ignored(4) == "still open"
    a.resolve(Actor("x"), T0, "done", [])
    assert (a.reopen_ignored(3), a.reopen_ignored(4)) == ("older than what was applied", None)
