"""Consumed events (use cases over fakes, no I/O): routing's lifecycle, a batch at a time, and
the catalogue (in memory once committed)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from services.intake.domain.projection import Fact
from shared.catalog import CatalogV1
from shared.events import Status
from shared.uow import FakeUnitOfWork, UnitOfWork
from tests.intake.conftest import CATALOG
from tests.intake.fakes import INTAKE, ROUTING, T0, a_report, world

DUE = T0 + timedelta(days=3)


def assigned(source: str = ROUTING, report_id: str = "r1", event_id: str = "e1") -> Fact:
    return Fact(
        event_id, report_id, "report.assigned", source, 1, T0, Status.ASSIGNED,
        agency_id="roads", agency_name="Roads", due_at=DUE,
    )  # fmt: skip


def started(report_id: str = "r1") -> Fact:
    return Fact("e2", report_id, "report.in_progress", ROUTING, 2, T0, Status.IN_PROGRESS)


def resolved(report_id: str = "r1") -> Fact:
    return Fact("e3", report_id, "report.resolved", ROUTING, 3, T0, Status.RESOLVED, note="ok")


def uow() -> FakeUnitOfWork:
    return FakeUnitOfWork({}, INTAKE)


def newer(version: int) -> CatalogV1:
    return CatalogV1.model_validate({**CATALOG.model_dump(), "version": version})


async def test_an_assignment_sets_agency_due_time_and_timeline() -> None:
    w = world(None, a_report())
    await w.intake.events.lifecycle([assigned()], uow())
    report = w.reports.by_id["r1"]
    assert (report.status, report.agency_name, report.expected_at) == (
        Status.ASSIGNED,
        "Roads",
        DUE,
    )
    assert [(e.event_id, e.status) for e in report.timeline] == [("e1", "assigned")]


async def test_a_batch_is_one_read_and_one_write_whatever_its_size() -> None:
    w = world(None, a_report("r1"), a_report("r2"), a_report("r3"))
    batch = [assigned(report_id=r, event_id=f"a-{r}") for r in ("r1", "r2", "r3")]
    await w.intake.events.lifecycle(batch, uow())
    assert (w.reports.reads, w.reports.writes) == (1, 1)
    assert {r.status for r in w.reports.by_id.values()} == {Status.ASSIGNED}


async def test_several_events_of_one_report_in_a_batch_apply_in_order_even_out_of_order() -> None:
    w = world(None, a_report())
    await w.intake.events.lifecycle([resolved(), started(), assigned()], uow())
    report = w.reports.by_id["r1"]
    assert (report.status, report.agency_id, report.status_notes) == (
        Status.RESOLVED,
        "roads",
        "ok",
    )
    # every event is history; only the newest status applied
    assert [(e.event_id, e.status) for e in report.timeline] == [
        ("e3", "resolved"),
        ("e2", None),
        ("e1", None),
    ]


async def test_the_same_event_twice_in_a_batch_is_applied_once() -> None:
    w = world(None, a_report())
    await w.intake.events.lifecycle([assigned(), assigned()], uow())
    assert [e.event_id for e in w.reports.by_id["r1"].timeline] == ["e1"]


async def test_an_event_for_an_unknown_report_is_ignored_and_returned() -> None:
    w = world(None, a_report())
    ghost = assigned(report_id="ghost", event_id="g")
    unknown = await w.intake.events.lifecycle([ghost, assigned()], uow())
    assert unknown == [ghost]
    assert set(w.reports.by_id) == {"r1"}
    assert w.reports.by_id["r1"].status == Status.ASSIGNED


async def test_intakes_own_events_are_not_applied_twice() -> None:
    w = world(None, a_report())
    await w.intake.events.lifecycle([assigned(source=INTAKE)], uow())
    assert (w.reports.saves, w.reports.reads) == (0, 0)


async def test_a_batch_that_changes_nothing_writes_nothing() -> None:
    w = world(None, replace(a_report(), status=Status.ASSIGNED))
    await w.intake.events.lifecycle([assigned(source=INTAKE)], uow())
    assert w.reports.writes == 0


async def test_the_newest_catalogue_wins() -> None:
    w = world(None)
    await w.intake.events.catalog_published(CATALOG, uow())
    await w.intake.events.catalog_published(newer(2), uow())
    assert (await w.intake.queries.catalog()).version == CATALOG.version


async def test_a_committed_catalogue_is_in_memory_without_reading_the_database() -> None:
    w = world(CATALOG)
    assert (await w.intake.queries.catalog()).version == 3
    loads = w.catalog.loads

    async def consume(u: UnitOfWork) -> None:
        await w.intake.events.catalog_published(newer(4), u)

    await w.tx.run(consume)
    for _ in range(3):
        assert (await w.intake.queries.catalog()).version == 4
    assert w.catalog.loads == loads


async def test_a_rolled_back_catalogue_never_reaches_memory() -> None:
    w = world(CATALOG)
    await w.intake.queries.catalog()

    async def consume_then_fail(u: UnitOfWork) -> None:
        await w.intake.events.catalog_published(newer(4), u)
        raise RuntimeError("the batch failed")

    with pytest.raises(RuntimeError):
        await w.tx.run(consume_then_fail)
    assert (await w.intake.queries.catalog()).version == 3


async def test_a_version_another_replica_stored_is_read_once_the_memory_is_old() -> None:
    w = world(CATALOG)
    await w.intake.queries.catalog()
    w.catalog.catalog = newer(5)  # stored by another replica
    assert (await w.intake.queries.catalog()).version == 3
    w.catalog.monotonic += 61
    assert (await w.intake.queries.catalog()).version == 5
