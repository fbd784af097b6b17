"""Housekeeping: re-announce reports left `received`, auto-close unrated resolved ones, delete
photo files whose report never committed."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from services.intake.domain.report import Report
from services.intake.metrics import IntakeMetrics
from shared.events import ReportClosedV1, Status, Topic
from shared.uow import Transactions, UnitOfWork

from .emitting import emit_for
from .ports import Photos, Reports

log = logging.getLogger(__name__)


class Upkeep:
    def __init__(
        self,
        transactions: Transactions,
        reports: Reports,
        photos: Photos,
        metrics: IntakeMetrics,
        clock: Callable[[], datetime],
        *,
        reconcile_after: timedelta,
        autoclose_after: timedelta,
        photo_grace: timedelta,
    ) -> None:
        self.transactions = transactions
        self.reports = reports
        self.photos = photos
        self.metrics = metrics
        self.clock = clock
        self.reconcile_after = reconcile_after
        self.autoclose_after = autoclose_after
        self.photo_grace = photo_grace
        self._caught_up = False

    async def once(self) -> None:
        if not self._caught_up:
            await self.catch_up()
        await self.reconcile_once()
        await self.autoclose_once()
        await self.sweep_photos_once()

    async def catch_up(self) -> int:
        """Once per process, before the first round: the reports not closed yet get the
        index-only fields this version's lookups need (documents written by an earlier
        version or copied in)."""
        count = await self.reports.catch_up()
        self._caught_up = True
        if count:
            log.info("caught up the lookup fields of %d reports", count)
        return count

    async def reconcile_once(self, now: datetime | None = None) -> int:
        """Re-announces reports still `received` long after their last announcement: a NEW
        report.created (new id, next sequence) with the same payload."""
        now = now or self.clock()
        before = now - self.reconcile_after

        def stale(report: Report) -> bool:
            return report.status == Status.RECEIVED and report.announced_at <= before

        async def reannounce(report: Report, uow: UnitOfWork) -> None:
            assert report.announcement is not None
            counted, _ = await emit_for(uow, report, Topic.REPORT_CREATED, report.announcement)
            await self.reports.save(report, counted.reannounced(now), uow.session)

        count = await self._each(await self.reports.stale_received(before), stale, reannounce)
        if count:
            self.metrics.reannounced.inc(count)
            log.info("re-announced %d reports still received", count)
        return count

    async def autoclose_once(self, now: datetime | None = None) -> int:
        """Closes reports resolved long ago that the resident never rated (report.closed,
        reason `auto`)."""
        now = now or self.clock()
        before = now - self.autoclose_after

        def due(report: Report) -> bool:
            resolved = report.resolved_at
            return report.status == Status.RESOLVED and resolved is not None and resolved <= before

        async def close(report: Report, uow: UnitOfWork) -> None:
            payload = ReportClosedV1(report_id=report.id, reason="auto", at=now)
            counted, event = await emit_for(uow, report, Topic.REPORT_CLOSED, payload)
            await self.reports.save(report, counted.autoclosed(now, event.id), uow.session)

        count = await self._each(await self.reports.resolved_before(before), due, close)
        if count:
            self.metrics.autoclosed.inc(count)
        return count

    async def sweep_photos_once(self, now: datetime | None = None) -> int:
        """Deletes photos still pending a grace period after upload: their create never
        committed (it failed, was refused, lost an idempotency race, or the process died)."""
        count = await self.photos.sweep_once((now or self.clock()) - self.photo_grace)
        if count:
            self.metrics.photos_swept.inc(count)
            log.info("deleted %d orphan photo files", count)
        return count

    async def _each(
        self,
        report_ids: list[str],
        still: Callable[[Report], bool],
        change: Callable[[Report, UnitOfWork], Awaitable[None]],
    ) -> int:
        """Applies `change` to each report, each in its own unit of work, if `still` holds when
        read again inside it (another replica or an event may have got there first)."""
        count = 0
        for report_id in report_ids:

            async def work(uow: UnitOfWork, report_id: str = report_id) -> bool:
                report = await self.reports.get(report_id, uow.session)
                if report is None or not still(report):
                    return False
                await change(report, uow)
                return True

            count += await self.transactions.run(work)
        return count
