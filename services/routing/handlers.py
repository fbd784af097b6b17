"""Subscribers: decode a polled batch of events, hand it to the use case in the consumer's unit
of work (each event's effects are emitted in its own trace scope)."""

from __future__ import annotations

from functools import partial

from services.routing.usecases.events import Arrival, IncomingReports
from shared.batch import BatchHandler, Incoming, event_scope
from shared.events import ReportCreatedV1, ReportReopenedV1, Topic
from shared.uow import UnitOfWork

# What the batch handler does with each topic (for the AsyncAPI document).
TOPICS: dict[str, str] = {
    Topic.REPORT_CREATED: "Routes a new report to an agency (idempotent by report id).",
    Topic.REPORT_REOPENED: "Routes a reopened report again.",
}


def _arrival(one: Incoming) -> Arrival:
    report: ReportCreatedV1 | ReportReopenedV1
    if one.topic == Topic.REPORT_CREATED:
        report = one.event.payload(ReportCreatedV1)
    else:
        report = one.event.payload(ReportReopenedV1)
    scope = partial(event_scope, one.topic, one.event, one.headers)
    return Arrival(report, one.event.sequence, scope)


def handlers(reports: IncomingReports) -> tuple[dict[str, str], BatchHandler]:
    async def on_reports(batch: list[Incoming], uow: UnitOfWork) -> None:
        """Routes the batch's new and reopened reports (one read, one write for all)."""
        await reports.arrive([_arrival(one) for one in batch], uow)

    return dict(TOPICS), on_reports
