"""The batch handler (over fakes, no I/O): a polled batch may mix the catalogue and several
lifecycle events of one report; the lifecycle part is read and written once."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest

from services.intake.domain.projection import CONSUMED
from services.intake.handlers import TOPICS, Handlers
from shared.catalog import CatalogV1
from shared.events import CloudEvent, ReportAcceptedV1, ReportAssignedV1, Status, Topic
from shared.uow import FakeUnitOfWork
from tests.intake.conftest import CATALOG, catalog_event, lifecycle
from tests.intake.fakes import INTAKE, T0, a_report, world
from tests.support import polled


def assigned(rid: str = "r1") -> CloudEvent:
    data = ReportAssignedV1(
        report_id=rid, assignment_id="a1", agency_id="roads", agency_name="Roads",
        category="pothole", due_at=T0 + timedelta(days=3), attempt=1, assigned_at=T0,
    )  # fmt: skip
    return lifecycle(rid, Topic.REPORT_ASSIGNED, 1, data)


def started(rid: str = "r1") -> CloudEvent:
    data = ReportAcceptedV1(report_id=rid, assignment_id="a1", agency_id="roads", at=T0)
    return lifecycle(rid, Topic.REPORT_IN_PROGRESS, 2, data)


def catalogue(version: int) -> CloudEvent:
    return catalog_event(CatalogV1.model_validate({**CATALOG.model_dump(), "version": version}))


def test_one_handler_takes_every_consumed_topic_and_the_catalogue() -> None:
    compacted = {str(Topic.JURISDICTION_CATALOG), str(Topic.ACCOUNT_CHANGED)}
    assert set(TOPICS) == {str(t) for t in CONSUMED} | compacted


async def test_a_mixed_batch_stores_the_catalogue_and_projects_the_lifecycle_at_once() -> None:
    w = world(None, a_report())
    batch = [polled(started()), polled(catalogue(4)), polled(assigned())]
    await Handlers(w.intake.events).on_batch(batch, FakeUnitOfWork({}, INTAKE))
    report = w.reports.by_id["r1"]
    assert (report.status, report.agency_name) == (Status.IN_PROGRESS, "Roads")
    assert (w.reports.reads, w.reports.writes) == (1, 1)
    assert w.catalog.catalog is not None
    assert w.catalog.catalog.version == 4


async def test_a_batch_of_one_catalogue_touches_no_report() -> None:
    w = world(None, a_report())
    await Handlers(w.intake.events).on_batch([polled(catalogue(4))], FakeUnitOfWork({}, INTAKE))
    assert (w.reports.reads, w.reports.writes) == (0, 0)


async def test_an_unknown_report_is_logged_with_its_event_and_the_rest_applies(
    caplog: pytest.LogCaptureFixture,
) -> None:
    w = world(None, a_report())
    with caplog.at_level(logging.WARNING):
        await Handlers(w.intake.events).on_batch(
            [polled(assigned("ghost")), polled(assigned())], FakeUnitOfWork({}, INTAKE)
        )
    assert w.reports.by_id["r1"].status == Status.ASSIGNED
    assert any("unknown report" in r.getMessage() for r in caplog.records)
