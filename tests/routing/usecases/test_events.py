"""Incoming `report.created` / `report.reopened` over fakes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from services.routing.domain.assignment import AState
from shared.events import ReportReopenedV1
from shared.uow import FakeTransactions
from tests.routing.fakes import OPERATOR, Routing, staff


async def _reopen(r: Routing, sequence: int, report_id: str = "r1") -> None:
    reopened = ReportReopenedV1(report_id=report_id, reason="still broken", at=r.clock())
    await r.tx.run(lambda uow: r.reports.reopened(reopened, sequence, uow))


async def test_a_new_report_goes_to_the_ward_by_its_rule() -> None:
    r = Routing()
    a = await r.route()
    [event] = r.tx.of_type("report.assigned")
    assert (a.agency_id, a.rule_id, a.area_id) == (
        "phu-hoi-ward",
        "sidewalk-encroachment@phu-hoi",
        "phu-hoi",
    )
    # 3 working days after Sunday 1 March 2026: the close of Wednesday, 17:00 in Huế.
    assert datetime.fromisoformat(event.data["due_at"]) == datetime(2026, 3, 4, 10, tzinfo=UTC)


async def test_due_time_is_the_category_deadline() -> None:
    r = Routing()
    a = await r.route(category="flooding")  # 6 calendar hours
    assert a.due_at - a.assigned_at == timedelta(hours=6)


async def test_unknown_category_gets_the_default_deadline_and_the_fallback() -> None:
    r = Routing()
    a = await r.route(category="never-heard-of")
    assert (a.agency_id, a.reason, a.due_at - a.assigned_at) == (
        "ioc",
        "fallback",
        timedelta(hours=72),
    )


async def test_a_reannounced_report_gets_its_assignment_and_state_again() -> None:
    r = Routing()
    a = await r.route()
    await r.staff.accept(staff("phu-hoi-ward"), a.id, None)
    await r.route(sequence=2)
    assert r.types() == ["report.assigned", "report.accepted"] * 2
    assert len(r.assignments.rows) == 1
    assert r.assignments.stored(a.id).intake_seq == 2


async def test_reopened_after_resolution_is_routed_again() -> None:
    r = Routing()
    a = await r.route()
    await r.staff.resolve(staff("phu-hoi-ward"), a.id, "done", [])
    await _reopen(r, sequence=2)
    again = r.assignments.stored(a.id)
    assert (again.status, again.attempt, again.history[-1]["note"]) == (
        AState.ASSIGNED,
        2,
        "reopened: still broken",
    )
    assert r.types()[-1] == "report.assigned"


async def test_a_stale_reopen_is_noted_but_not_applied() -> None:
    r = Routing()
    a = await r.route(sequence=5)
    await r.operator.dismiss(OPERATOR, a.id, "spam")
    await _reopen(r, sequence=4)
    stored = r.assignments.stored(a.id)
    assert (stored.status, stored.history[-1]["note"]) == (
        AState.REJECTED,
        "reopen ignored: older than what was applied",
    )
    assert r.types()[-1] == "report.rejected"


async def test_a_reopen_of_an_unknown_report_is_counted_and_emits_nothing() -> None:
    r = Routing()
    await _reopen(r, sequence=2, report_id="ghost")
    assert (r.metric("routing_unknown_reopen_total"), r.tx.emitted) == (1.0, [])


async def test_the_reporter_contact_is_not_kept() -> None:
    r = Routing()
    a = await r.route()
    assert "sealed" not in repr(r.assignments.stored(a.id))


async def test_a_concurrent_first_delivery_makes_the_retry_reannounce() -> None:
    r = Routing()
    await r.route()
    racing = Routing(assignments=r.assignments, tx=FakeTransactions())
    await racing.route(sequence=1)
    assert racing.types() == ["report.assigned"]
    assert len(r.assignments.rows) == 1
