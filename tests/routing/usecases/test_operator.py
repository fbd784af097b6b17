"""Operator use cases over fakes: triage, manual assignment, duplicates, dismissal."""

from __future__ import annotations

import pytest

from services.routing.domain.assignment import AState
from services.routing.domain.errors import InvalidDuplicate, UnknownReport
from tests.routing.fakes import OPERATOR, Routing

NOWHERE = (0.0, 0.0)


async def test_triage_lists_open_assignments_of_the_fallback_agency() -> None:
    r = Routing()
    lost = await r.route("r1", point=NOWHERE)
    await r.route("r2")
    assert [a.id for a in await r.operator_queries.triage(10)] == [lost.id]


async def test_manual_assignment_leaves_triage_with_reason_manual() -> None:
    r = Routing()
    lost = await r.route("r1", point=NOWHERE)
    moved = await r.operator.assign(OPERATOR, lost.id, "hue-water", "water main")
    assert (moved.agency_id, moved.reason, moved.attempt) == ("hue-water", "manual", 2)
    assert await r.operator_queries.triage(10) == []


async def test_manual_assignment_reopens_a_closed_one() -> None:
    r = Routing()
    a = await r.route()
    await r.operator.dismiss(OPERATOR, a.id, "spam")
    moved = await r.operator.assign(OPERATOR, a.id, "phu-hoi-ward", None)
    assert moved.status == AState.ASSIGNED


async def test_dismiss_emits_rejected_by_the_operator() -> None:
    r = Routing()
    a = await r.route()
    await r.operator.dismiss(OPERATOR, a.id, "spam: ads")
    [event] = r.tx.of_type("report.rejected")
    assert (event.data["reason"], event.data["by"]) == ("spam: ads", "operator")
    assert r.assignments.stored(a.id).status == AState.REJECTED


async def test_duplicate_of_a_duplicate_points_at_the_root() -> None:
    r = Routing()
    await r.route("root")
    middle = await r.route("middle")
    last = await r.route("last")
    await r.operator.mark_duplicate(OPERATOR, middle.id, "root")
    marked = await r.operator.mark_duplicate(OPERATOR, last.id, "middle")
    assert marked.duplicate_of == "root"
    assert r.tx.of_type("report.duplicate")[-1].data["duplicate_of"] == "root"


async def test_duplicate_of_an_unknown_report_is_refused() -> None:
    r = Routing()
    a = await r.route()
    with pytest.raises(UnknownReport):
        await r.operator.mark_duplicate(OPERATOR, a.id, "ghost")
    assert r.assignments.stored(a.id).status == AState.ASSIGNED


async def test_a_report_cannot_duplicate_itself() -> None:
    r = Routing()
    a = await r.route()
    with pytest.raises(InvalidDuplicate):
        await r.operator.mark_duplicate(OPERATOR, a.id, a.report_id)
