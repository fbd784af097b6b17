"""Housekeeping (use cases over fakes, no I/O): reconciler, auto-close, photo sweep, with their
metrics by value."""

from __future__ import annotations

from datetime import timedelta

from services.intake.domain.report import Report
from shared.events import GeoPoint, ReportClosedV1, ReportCreatedV1, Status
from tests.intake.fakes import T0, a_report, world

ANNOUNCEMENT = ReportCreatedV1(
    report_id="r1",
    category="pothole",
    location=GeoPoint(lat=16.46, lon=107.59),
    description="ổ gà",
    created_at=T0,
)


def received() -> Report:
    return a_report(announcement=ANNOUNCEMENT)


async def test_a_stale_received_report_is_announced_again_once() -> None:
    w = world(None, received())
    later = T0 + timedelta(minutes=6)
    assert await w.intake.upkeep.reconcile_once(later) == 1
    assert await w.intake.upkeep.reconcile_once(later) == 0
    [event] = w.tx.emitted
    assert event.payload(ReportCreatedV1) == ANNOUNCEMENT
    assert w.reports.by_id["r1"].announced_at == later
    assert w.value("intake_reports_reannounced_total") == 1


async def test_a_recently_announced_report_is_left_alone() -> None:
    w = world(None, received())
    assert await w.intake.upkeep.reconcile_once(T0 + timedelta(minutes=4)) == 0
    assert w.tx.emitted == []


async def test_an_old_resolved_report_is_closed_automatically() -> None:
    w = world(None, a_report(status=Status.RESOLVED, resolved_at=T0))
    later = T0 + timedelta(days=8)
    assert await w.intake.upkeep.autoclose_once(later) == 1
    [event] = w.tx.emitted
    assert event.payload(ReportClosedV1).reason == "auto"
    assert w.reports.by_id["r1"].status == Status.CLOSED
    assert w.value("intake_reports_autoclosed_total") == 1


async def test_a_report_resolved_recently_stays_resolved() -> None:
    w = world(None, a_report(status=Status.RESOLVED, resolved_at=T0))
    assert await w.intake.upkeep.autoclose_once(T0 + timedelta(days=6)) == 0


async def test_the_sweep_deletes_only_pending_photos_past_the_grace() -> None:
    w = world(None)
    await w.photos.put_pending(b"orphan", "image/jpeg", "r9", "orphan")
    await w.photos.put_pending(b"kept", "image/jpeg", "r1", "kept")
    await w.photos.confirm(["kept"], None)
    assert await w.intake.upkeep.sweep_photos_once(T0 + timedelta(minutes=14)) == 0
    assert await w.intake.upkeep.sweep_photos_once(T0 + timedelta(minutes=16)) == 1
    assert list(w.photos.files) == ["kept"]
    assert w.value("intake_orphan_photos_deleted_total") == 1
