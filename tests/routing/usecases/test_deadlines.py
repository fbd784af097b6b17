"""Deadline checks and gauges over fakes."""

from __future__ import annotations

from datetime import timedelta

from tests.routing.fakes import Routing, staff


async def test_a_breach_escalates_once() -> None:
    r = Routing()
    a = await r.route()
    r.clock.advance(days=7)
    assert (await r.deadlines.check(), await r.deadlines.check()) == (1, 0)
    [event] = r.tx.of_type("report.escalated")
    assert (event.data["level"], event.data["assignment_id"]) == (1, a.id)
    assert r.metric("routing_escalations_total") == 1


async def test_escalation_does_not_change_what_is_reannounced() -> None:
    r = Routing()
    a = await r.route()
    r.clock.advance(days=7)
    await r.deadlines.check()
    assert r.assignments.stored(a.id).last_state is None


async def test_a_new_due_time_can_breach_again() -> None:
    r = Routing()
    a = await r.route()
    r.clock.advance(days=7)
    await r.deadlines.check()
    await r.staff.transfer(staff("phu-hoi-ward"), a.id, "hue-urenco", None)
    r.clock.advance(days=7)
    await r.deadlines.check()
    assert [e.data["level"] for e in r.tx.of_type("report.escalated")] == [1, 2]


async def test_gauges_count_open_and_overdue_per_agency() -> None:
    r = Routing()
    await r.route("r1")
    r.clock.advance(days=7)
    await r.route("r2")
    await r.deadlines.check()
    assert r.metric("routing_open_assignments", agency="phu-hoi-ward") == 2
    assert r.metric("routing_overdue_assignments", agency="phu-hoi-ward") == 1
    assert r.metric("routing_open_assignments", agency="ioc") == 0


async def test_between_reads_of_every_open_one_a_pass_reads_only_the_overdue() -> None:
    r = Routing()
    r.deadlines.open_every = timedelta(days=30)
    await r.route("r1")
    await r.deadlines.check()  # the first pass reads every open assignment
    r.clock.advance(days=7)
    await r.route("r2")  # open, not overdue: counted at the next read of every open one
    await r.deadlines.check()
    assert r.metric("routing_overdue_assignments", agency="phu-hoi-ward") == 1
    assert r.metric("routing_open_assignments", agency="phu-hoi-ward") == 1


async def test_the_open_gauge_is_read_again_after_its_interval() -> None:
    r = Routing()
    await r.deadlines.check()
    await r.route("r1")
    r.clock.advance(minutes=5)
    await r.deadlines.check()
    assert r.metric("routing_open_assignments", agency="phu-hoi-ward") == 1
