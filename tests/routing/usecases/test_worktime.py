"""Working-time deadlines, closure days, recategorizing and disputed reports, over fakes."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from services.routing.domain.assignment import Actor, AState
from services.routing.domain.closures import Closure
from services.routing.domain.errors import InvalidTransition, NoSuchClosure, UnknownCategory
from services.routing.domain.queue import QueueFilter
from shared.events import SuggestionV1, TriageV1
from tests.routing.fakes import OPERATOR, PHU_HOI, Clock, Routing, created, staff

HUE = ZoneInfo("Asia/Ho_Chi_Minh")
ADMIN = Actor("admin")
EVE_OF_TET = datetime(2026, 2, 13, 16, tzinfo=HUE)  # Friday; Tết 2026 is Mon 16 - Fri 20 Feb


def at_hue(y: int, m: int, d: int, hh: int = 0, mm: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=HUE).astimezone(UTC)


def disputed(report_id: str, category: str = "sidewalk-encroachment") -> TriageV1:
    suggestions = [SuggestionV1(category="garbage", confidence=0.91)]
    return TriageV1(
        model_version="m1", suggestions=suggestions, chosen_by="resident", disputed=True
    )


async def test_a_working_days_deadline_lands_on_the_third_working_day_after_tet() -> None:
    r = Routing(clock=Clock(EVE_OF_TET.astimezone(UTC)))
    a = await r.route(category="pothole")  # 3 working days
    assert a.due_at == at_hue(2026, 2, 25, 17)


async def test_nothing_is_overdue_or_escalated_while_the_agencies_are_closed_for_tet() -> None:
    r = Routing(clock=Clock(EVE_OF_TET.astimezone(UTC)))
    await r.route(category="sidewalk-encroachment")  # 3 working days, ward office hours
    r.clock.now = at_hue(2026, 2, 22, 12)  # 9 days later: Tết, then the weekend
    assert await r.deadlines.check() == 0
    assert await r.staff_queries.queue(OPERATOR, QueueFilter(overdue=True)) == []


async def test_a_calendar_hours_category_keeps_calendar_time() -> None:
    r = Routing(clock=Clock(EVE_OF_TET.astimezone(UTC)))
    a = await r.route(category="flooding")  # 6 hours, round the clock
    assert a.due_at == at_hue(2026, 2, 13, 22)


async def test_a_closure_day_moves_the_due_time_of_open_assignments_and_announces_it() -> None:
    r = Routing(clock=Clock(at_hue(2026, 3, 2, 16)))  # Monday
    a = await r.route(category="pothole")  # due Thu 5 Mar 17:00
    await r.closures.put(Closure(date(2026, 3, 4), "typhoon"), ADMIN)
    moved = r.assignments.stored(a.id)
    assert moved.due_at == at_hue(2026, 3, 6, 17)
    last = r.tx.of_type("report.assigned")[-1]
    assert (datetime.fromisoformat(last.data["due_at"]), last.data["attempt"]) == (moved.due_at, 1)


async def test_removing_the_closure_moves_the_due_time_back() -> None:
    r = Routing(clock=Clock(at_hue(2026, 3, 2, 16)))
    a = await r.route(category="pothole")
    await r.closures.put(Closure(date(2026, 3, 4), "typhoon"), ADMIN)
    await r.closures.remove(date(2026, 3, 4), ADMIN)
    assert r.assignments.stored(a.id).due_at == at_hue(2026, 3, 5, 17)
    assert r.jurisdictions.closures().items == ()


async def test_a_closure_of_another_agency_changes_nothing_and_emits_nothing() -> None:
    r = Routing(clock=Clock(at_hue(2026, 3, 2, 16)))
    a = await r.route(category="pothole")
    before = len(r.tx.emitted)
    await r.closures.put(Closure(date(2026, 3, 4), "flood", ("hue-water",)), ADMIN)
    assert (r.assignments.stored(a.id).due_at, len(r.tx.emitted)) == (a.due_at, before)


async def test_removing_a_day_that_is_not_closed_is_not_found() -> None:
    with pytest.raises(NoSuchClosure):
        await Routing().closures.remove(date(2026, 3, 4), ADMIN)


async def test_recategorize_reroutes_and_emits_recategorized_then_assigned() -> None:
    r = Routing()
    a = await r.route(category="sidewalk-encroachment")
    after = await r.operator.recategorize(OPERATOR, a.id, "garbage", "it is a rubbish heap")
    assert (after.category, after.agency_id, after.reason, after.attempt) == (
        "garbage",
        "hue-urenco",
        "reroute",
        2,
    )
    assert r.types()[-2:] == ["report.recategorized", "report.assigned"]
    recat = r.tx.of_type("report.recategorized")[-1].data
    assert (recat["previous_category"], recat["category"], recat["by"]) == (
        "sidewalk-encroachment",
        "garbage",
        "operator",
    )


async def test_recategorize_to_the_same_category_is_a_conflict() -> None:
    r = Routing()
    a = await r.route(category="garbage")
    with pytest.raises(InvalidTransition):
        await r.operator.recategorize(OPERATOR, a.id, "garbage", None)


async def test_recategorize_to_an_unknown_category_is_refused() -> None:
    r = Routing()
    a = await r.route()
    with pytest.raises(UnknownCategory):
        await r.operator.recategorize(OPERATOR, a.id, "no-such-thing", None)


async def test_recategorize_a_closed_report_is_a_conflict() -> None:
    r = Routing()
    a = await r.route()
    await r.staff.resolve(staff("phu-hoi-ward"), a.id, "done")
    with pytest.raises(InvalidTransition):
        await r.operator.recategorize(OPERATOR, a.id, "garbage", None)


async def test_a_disputed_report_waits_in_triage_with_the_models_suggestions() -> None:
    r = Routing()
    report = created("r1").model_copy(update={"triage": disputed("r1")})
    await r.tx.run(lambda uow: r.reports.created(report, 1, uow))
    [a] = await r.operator_queries.triage(10)
    assert (a.agency_id, a.reason, a.disputed, a.status) == (
        "ioc",
        "disputed",
        True,
        AState.ASSIGNED,
    )
    assert a.suggestions == [{"category": "garbage", "confidence": 0.91}]


async def test_a_report_categorized_by_the_model_routes_normally() -> None:
    r = Routing()
    triage = TriageV1(
        model_version="m1",
        suggestions=[SuggestionV1(category="sidewalk-encroachment", confidence=0.9)],
        chosen_by="model",
    )
    report = created("r1", point=PHU_HOI).model_copy(update={"triage": triage})
    await r.tx.run(lambda uow: r.reports.created(report, 1, uow))
    found = await r.assignments.by_report("r1")
    assert found is not None
    assert (found[0].agency_id, found[0].reason) == ("phu-hoi-ward", "rule")
