"""Staff use cases over fakes: each command's state change, its events, and refusals."""

from __future__ import annotations

import pytest

from services.routing.domain.assignment import AState
from services.routing.domain.errors import (
    InvalidTransition,
    NoSuchAssignment,
    UnknownAgency,
    UnsupportedPhoto,
)
from services.routing.domain.queue import QueueFilter
from tests.routing.fakes import OPERATOR, Routing, png, staff

WARD = staff("phu-hoi-ward")


async def test_accept_sets_accepted_and_emits_report_accepted() -> None:
    r = Routing()
    a = await r.route()
    done = await r.staff.accept(WARD, a.id, "on it")
    assert (done.status, r.assignments.stored(a.id).status) == (AState.ACCEPTED, AState.ACCEPTED)
    [event] = r.tx.of_type("report.accepted")
    assert (event.subject, event.data["note"]) == ("r1", "on it")


async def test_start_emits_in_progress_with_the_next_sequence() -> None:
    r = Routing()
    a = await r.route()
    await r.staff.start(WARD, a.id, None)
    assert [e.sequence for e in r.tx.emitted] == [1, 2]
    assert r.types()[-1] == "report.in_progress"


async def test_a_refused_transition_stores_and_emits_nothing() -> None:
    r = Routing()
    a = await r.route()
    await r.staff.start(WARD, a.id, None)
    before = (r.assignments.stored(a.id), len(r.tx.emitted))
    with pytest.raises(InvalidTransition):
        await r.staff.accept(WARD, a.id, None)
    assert (r.assignments.stored(a.id), len(r.tx.emitted)) == before
    assert r.tx.rollbacks == 1


async def test_another_agency_cannot_see_or_change_it() -> None:
    r = Routing()
    a = await r.route()
    with pytest.raises(NoSuchAssignment):
        await r.staff.accept(staff("vinh-ninh-ward"), a.id, None)
    with pytest.raises(NoSuchAssignment):
        await r.staff_queries.get(staff("vinh-ninh-ward"), a.id)


async def test_reject_reroutes_to_the_district_with_the_reason_in_history() -> None:
    r = Routing()
    a = await r.route()
    moved = await r.staff.reject(WARD, a.id, "district road")
    assert (moved.agency_id, moved.attempt, moved.rejected_by) == (
        "thuan-hoa-district",
        2,
        ["phu-hoi-ward"],
    )
    assert (moved.history[-1]["note"], moved.history[-1]["at"]) == ("district road", r.clock())
    assert r.tx.of_type("report.assigned")[-1].data["reason"] == "reroute"


async def test_reroute_counts_the_assignment_by_reason() -> None:
    r = Routing()
    a = await r.route()
    await r.staff.reject(WARD, a.id, "x")
    assert r.metric("routing_assignments_total", reason="reroute") == 1


async def test_transfer_to_an_unknown_agency_is_refused() -> None:
    r = Routing()
    a = await r.route()
    with pytest.raises(UnknownAgency):
        await r.staff.transfer(WARD, a.id, "nowhere", None)
    assert r.types() == ["report.assigned"]


async def test_transfer_to_the_same_agency_is_refused() -> None:
    r = Routing()
    a = await r.route()
    with pytest.raises(InvalidTransition, match="already assigned"):
        await r.staff.transfer(WARD, a.id, "phu-hoi-ward", None)


async def test_resolve_confirms_its_photos_and_announces_their_urls() -> None:
    r = Routing()
    a = await r.route()
    done = await r.staff.resolve(WARD, a.id, "cleared", [png()])
    [event] = r.tx.of_type("report.resolved")
    assert event.data["photo_urls"] == ["http://routing/api/v1/photos/p1"]
    assert (done.photo_ids, r.photo_store.files["p1"][2]) == (["p1"], False)
    assert event.data["on_time"] is True


async def test_a_refused_resolve_discards_its_photos() -> None:
    r = Routing()
    a = await r.route()
    await r.staff.resolve(WARD, a.id, "done", [])
    with pytest.raises(InvalidTransition):
        await r.staff.resolve(WARD, a.id, "again", [png()])
    assert r.photo_store.files == {}


async def test_a_non_image_stores_no_photo_and_changes_nothing() -> None:
    r = Routing()
    a = await r.route()
    with pytest.raises(UnsupportedPhoto):
        await r.staff.resolve(WARD, a.id, "done", [png(), b"<script>"])
    assert (r.photo_store.files, r.assignments.stored(a.id).status) == ({}, AState.ASSIGNED)


async def test_resolving_the_original_resolves_its_duplicates() -> None:
    r = Routing()
    original = await r.route("r1")
    dup = await r.route("r2")
    await r.operator.mark_duplicate(OPERATOR, dup.id, "r1")
    await r.staff.resolve(WARD, original.id, "ok", [])
    assert r.assignments.stored(dup.id).status == AState.RESOLVED
    assert [e.subject for e in r.tx.of_type("report.resolved")] == ["r1", "r2"]


async def test_staff_queue_shows_only_their_agency_overdue_first() -> None:
    r = Routing()
    first = await r.route("r1")
    await r.route("r2", point=(0.0, 0.0))  # nowhere: the IOC
    r.clock.advance(days=1)  # Monday: one working day later due (3 working days each)
    later = await r.route("r3")
    r.clock.advance(days=2, hours=18)  # Thursday morning: r1 is overdue, r3 not yet
    queue = await r.staff_queries.queue(WARD, QueueFilter(agency_id="ioc"))
    assert [a.id for a in queue] == [first.id, later.id]
    assert [a.overdue(r.clock()) for a in queue] == [True, False]
