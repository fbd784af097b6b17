"""The resident's actions on a filed report: rate it, reopen it (tracking token), support it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from services.intake.domain import rules
from services.intake.domain.errors import AlreadySupported
from services.intake.domain.report import Rating, Report
from shared.events import (
    GeoPoint,
    ReportClosedV1,
    ReportRatedV1,
    ReportReopenedV1,
    ReportSupportedV1,
    Topic,
)
from shared.uow import Transactions, UnitOfWork

from .emitting import emit_for
from .ports import Reports, Supports
from .queries import existing


class ResidentActions:
    def __init__(
        self,
        transactions: Transactions,
        reports: Reports,
        supports: Supports,
        clock: Callable[[], datetime],
    ) -> None:
        self.transactions = transactions
        self.reports = reports
        self.supports = supports
        self.clock = clock

    async def rate(
        self, report_id: str, token: str | None, rating: int, comment: str | None
    ) -> Report:
        """Rates a resolved report, which closes it: report.rated then report.closed (rated)."""
        rules.check_token(token, (await existing(self.reports, report_id)).token_hash)
        now = self.clock()

        async def work(uow: UnitOfWork) -> None:
            report = await existing(self.reports, report_id, uow.session)
            rules.check_can_rate(report.status)
            counted, rated = await emit_for(
                uow,
                report,
                Topic.REPORT_RATED,
                ReportRatedV1(report_id=report_id, rating=rating, comment=comment, at=now),
            )
            counted, closed = await emit_for(
                uow,
                counted,
                Topic.REPORT_CLOSED,
                ReportClosedV1(report_id=report_id, reason="rated", at=now),
            )
            after = counted.rated(Rating(rating, comment, now), rated.id, closed.id)
            await self.reports.save(report, after, uow.session)

        await self.transactions.run(work)
        return await existing(self.reports, report_id)

    async def reopen(self, report_id: str, token: str | None, reason: str) -> Report:
        """A resolved or closed report back to `received`: report.reopened (routing assigns it
        again)."""
        rules.check_token(token, (await existing(self.reports, report_id)).token_hash)
        now = self.clock()

        async def work(uow: UnitOfWork) -> None:
            report = await existing(self.reports, report_id, uow.session)
            rules.check_can_reopen(report.status)
            counted, event = await emit_for(
                uow,
                report,
                Topic.REPORT_REOPENED,
                ReportReopenedV1(
                    report_id=report_id,
                    reason=reason,
                    at=now,
                    category=report.category,
                    location=GeoPoint(lat=report.lat, lon=report.lon),
                ),
            )
            await self.reports.save(report, counted.reopened(reason, now, event.id), uow.session)

        await self.transactions.run(work)
        return await existing(self.reports, report_id)

    async def support(self, report_id: str, client_fingerprint: str) -> Report:
        """+1 on an open report, once per client: report.supported with the new count."""
        await existing(self.reports, report_id)
        now = self.clock()
        client = rules.supporter_key(client_fingerprint)

        async def work(uow: UnitOfWork) -> None:
            report = await existing(self.reports, report_id, uow.session)
            rules.check_can_support(report.status)
            if not await self.supports.add(report_id, client, now, uow.session):
                raise AlreadySupported("this client already supports the report")
            supported = report.supported(now)
            after, _ = await emit_for(
                uow,
                supported,
                Topic.REPORT_SUPPORTED,
                ReportSupportedV1(report_id=report_id, supporters=supported.supporters, at=now),
            )
            await self.reports.save(report, after, uow.session)

        await self.transactions.run(work)
        return await existing(self.reports, report_id)
