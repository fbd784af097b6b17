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
    TransitionRefused,
    new_assignment,
)
from services.routing.domain.jurisdiction import AreaHit, InvalidJurisdiction, choose, parse
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
        "deadline": timedelta(hours=72),
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
        deadline=timedelta(hours=1),
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
    with pytest.raises(TransitionRefused):
        a.set_status(Action.RESOLVE, AState.RESOLVED, SYSTEM, T0)


def test_reject_after_work_started_refused() -> None:
    a = assignment()
    a.set_status(Action.START, AState.IN_PROGRESS, SYSTEM, T0)
    with pytest.raises(TransitionRefused):
        a.reject_by_agency(Actor("x", "transport-dept"), T0, "not ours")


def test_history_records_who_and_when_never_a_reporter() -> None:
    a = assignment()
    a.set_status(Action.ACCEPT, AState.ACCEPTED, Actor("transport-dept", "transport-dept"), T0)
    entry = a.history[-1]
    assert entry["by"] == {"sub": "transport-dept", "agency_id": "transport-dept"}
    assert entry["at"] == T0


def test_reroute_increments_attempt_and_remembers_rejecter() -> None:
    a = assignment()
    a.reject_by_agency(Actor("transport-dept", "transport-dept"), T0, "not ours")
    a.move_to(
        "ioc",
        action=Action.REJECT,
        actor=SYSTEM,
        at=T0,
        deadline=timedelta(hours=1),
        reason="reroute",
    )
    assert (a.attempt, a.rejected_by, a.agency_id) == (2, ["transport-dept"], "ioc")


def _errors(document: dict[str, Any]) -> list[str]:
    with pytest.raises(InvalidJurisdiction) as info:
        parse(document)
    return info.value.errors


def test_duplicate_agency_id_refused() -> None:
    d = doc()
    d["agencies"].append(copy.deepcopy(d["agencies"][0]))
    assert "duplicate agency id: ioc" in _errors(d)


def test_rule_with_unknown_references_refused() -> None:
    d = doc(rules=[{"id": "x", "category": "nope", "area": "nowhere", "agency": "ghost"}])
    assert len(_errors(d)) == 3


def test_unclosed_polygon_refused() -> None:
    d = doc()
    d["areas"][0]["geometry"]["coordinates"][0][-1] = [107.1, 16.1]
    assert any("not closed" in e for e in _errors(d))


def test_zero_deadline_refused() -> None:
    d = doc()
    d["categories"][0]["deadline_hours"] = 0
    assert any("deadline_hours" in e for e in _errors(d))


def test_missing_fallback_agency_refused() -> None:
    assert any("fallback_agency" in e for e in _errors(doc(fallback_agency="nobody")))


def _with_ring(ring: list[list[Any]], *holes: list[list[Any]]) -> dict[str, Any]:
    d = doc()
    d["areas"][0]["geometry"] = {"type": "Polygon", "coordinates": [ring, *holes]}
    return d


SQUARE = [[107.0, 16.0], [108.0, 16.0], [108.0, 17.0], [107.0, 17.0], [107.0, 16.0]]


def test_self_intersecting_bow_tie_refused_naming_the_area() -> None:
    bow = [[107.0, 16.0], [108.0, 17.0], [108.0, 16.0], [107.0, 17.0], [107.0, 16.0]]
    errors = _errors(_with_ring(bow))
    assert errors == [
        f"area {DOC['areas'][0]['id']}: ring intersects itself (edges 1 and 3 cross, touch or overlap)"
    ]


def test_ring_touching_itself_at_a_vertex_refused() -> None:
    figure8 = [[0, 0], [2, 0], [1, 1], [2, 2], [0, 2], [1, 1], [0, 0]]
    assert any("intersects itself" in e for e in _errors(_with_ring(figure8)))


def test_spike_folding_back_on_an_edge_refused() -> None:
    spike = [[0, 0], [2, 0], [3, 0], [1, 0], [1, 1], [0, 0]]
    assert any("intersects itself" in e for e in _errors(_with_ring(spike)))


def test_repeated_consecutive_position_accepted() -> None:
    ring = [SQUARE[0], SQUARE[1], SQUARE[1], *SQUARE[2:]]
    parse(_with_ring(ring))


def test_concave_ring_accepted() -> None:
    arrow = [[0, 0], [4, 0], [2, 1], [4, 4], [0, 4], [0, 0]]
    parse(_with_ring(arrow))


def test_hole_inside_accepted_and_hole_outside_refused() -> None:
    inside = [[107.2, 16.2], [107.4, 16.2], [107.4, 16.4], [107.2, 16.2]]
    outside = [[109.2, 16.2], [109.4, 16.2], [109.4, 16.4], [109.2, 16.2]]
    parse(_with_ring(SQUARE, inside))
    assert any("not inside" in e for e in _errors(_with_ring(SQUARE, outside)))


def test_hole_crossing_the_exterior_refused() -> None:
    crossing = [[107.5, 16.5], [108.5, 16.5], [108.5, 16.7], [107.5, 16.5]]
    assert any("crosses" in e for e in _errors(_with_ring(SQUARE, crossing)))


def test_every_bad_area_listed() -> None:
    d = doc()
    bow = [[107.0, 16.0], [108.0, 17.0], [108.0, 16.0], [107.0, 17.0], [107.0, 16.0]]
    for area in d["areas"][:2]:
        area["geometry"] = {"type": "Polygon", "coordinates": [bow]}
    assert [e.split(":")[0] for e in _errors(d)] == [f"area {a['id']}" for a in d["areas"][:2]]
