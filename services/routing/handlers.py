"""Subscribers: decode the event, hand it to the use case in the consumer's unit of work."""

from __future__ import annotations

from services.routing.usecases.events import IncomingReports
from shared.batch import Handler
from shared.events import CloudEvent, ReportCreatedV1, ReportReopenedV1, Topic
from shared.uow import UnitOfWork


def handlers(reports: IncomingReports) -> dict[str, Handler]:
    async def on_report_created(event: CloudEvent, uow: UnitOfWork) -> None:
        """Routes a new report to an agency (idempotent by report id)."""
        await reports.created(event.payload(ReportCreatedV1), event.sequence, uow)

    async def on_report_reopened(event: CloudEvent, uow: UnitOfWork) -> None:
        """Routes a reopened report again."""
        await reports.reopened(event.payload(ReportReopenedV1), event.sequence, uow)

    return {Topic.REPORT_CREATED: on_report_created, Topic.REPORT_REOPENED: on_report_reopened}
