"""The resident's actions on a filed report: rate it, reopen it (tracking token), support it
(anonymous resident token, `domain/residents.py`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from services.intake.domain import residents, rules
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

    async def support(self, report_id: str, resident_id: str) -> Report:
        """+1 on an open report, once per resident (the id of a checked resident token):
        report.supported with the new count."""
        await existing(self.reports, report_id)
        now = self.clock()
        client = rules.supporter_key(resident_id)

        async def work(uow: UnitOfWork) -> None:
            report = await existing(self.reports, report_id, uow.session)
            rules.check_can_support(report.status)
            if not await self.supports.add(report_id, client, now, uow.session):
                raise AlreadySupported("this resident already supports the report")
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


@dataclass(frozen=True)
class IssuedToken:
    token: str
    expires_at: datetime


class ResidentTokens:
    """Issues anonymous resident tokens and tells whose a presented one is (no storage: the
    token carries its id and issue time under intake's MAC)."""

    def __init__(self, key: bytes, clock: Callable[[], datetime], max_age: timedelta) -> None:
        self.key = key
        self.clock = clock
        self.max_age = max_age

    def issue(self) -> IssuedToken:
        now = self.clock()
        return IssuedToken(residents.issue(self.key, int(now.timestamp())), now + self.max_age)

    def resident(self, token: str | None) -> str:
        now = int(self.clock().timestamp())
        return residents.resident_of(self.key, token, now, int(self.max_age.total_seconds()))
