"""Consumed events (use cases over fakes, no I/O): routing's lifecycle and the catalogue."""

from __future__ import annotations

from datetime import timedelta

from services.intake.domain.projection import Fact
from shared.events import CatalogV1, Status
from shared.uow import FakeUnitOfWork
from tests.intake.conftest import CATALOG
from tests.intake.fakes import INTAKE, ROUTING, T0, a_report, world

DUE = T0 + timedelta(days=3)


def assigned(source: str = ROUTING, report_id: str = "r1") -> Fact:
    return Fact(
        "e1", report_id, "report.assigned", source, 1, T0, Status.ASSIGNED,
        agency_id="roads", agency_name="Roads", due_at=DUE,
    )  # fmt: skip


def uow() -> FakeUnitOfWork:
    return FakeUnitOfWork({}, INTAKE)


async def test_an_assignment_sets_agency_due_time_and_timeline() -> None:
    w = world(None, a_report())
    await w.intake.events.lifecycle(assigned(), uow())
    report = w.reports.by_id["r1"]
    assert (report.status, report.agency_name, report.expected_at) == (
        Status.ASSIGNED,
        "Roads",
        DUE,
    )
    assert [(e.event_id, e.status) for e in report.timeline] == [("e1", "assigned")]


async def test_an_event_for_an_unknown_report_is_ignored() -> None:
    w = world(None)
    await w.intake.events.lifecycle(assigned(report_id="ghost"), uow())
    assert (w.reports.by_id, w.reports.saves) == ({}, 0)


async def test_intakes_own_events_are_not_applied_twice() -> None:
    w = world(None, a_report())
    await w.intake.events.lifecycle(assigned(source=INTAKE), uow())
    assert w.reports.saves == 0


async def test_the_newest_catalogue_wins() -> None:
    w = world(None)
    older = CatalogV1.model_validate({**CATALOG.model_dump(), "version": 2})
    await w.intake.events.catalog_published(CATALOG, uow())
    await w.intake.events.catalog_published(older, uow())
    assert (await w.intake.queries.catalog()).version == CATALOG.version
