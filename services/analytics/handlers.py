"""Subscribers: one line each, decode the event and call the use case in the consumer's unit of work."""

from __future__ import annotations

from services.analytics.usecases.events import KeepCatalog, RecordReportEvent
from shared.batch import Handler
from shared.events import REPORT_TOPICS, CatalogV1, CloudEvent, Topic
from shared.uow import UnitOfWork


def report_handler(topic: str, record: RecordReportEvent) -> Handler:
    async def on_report_event(event: CloudEvent, uow: UnitOfWork) -> None:
        """Records a report lifecycle event for the per-report fact projection."""
        await record(topic, event, uow)

    return on_report_event


def catalog_handler(keep: KeepCatalog) -> Handler:
    async def on_catalog(event: CloudEvent, uow: UnitOfWork) -> None:
        """Keeps the newest catalogue (older versions ignored)."""
        await keep(event.payload(CatalogV1), uow)

    return on_catalog


def handlers(record: RecordReportEvent, keep: KeepCatalog) -> dict[str, Handler]:
    """Every topic analytics consumes, with its handler."""
    table = {str(t): report_handler(t, record) for t in REPORT_TOPICS}
    table[Topic.JURISDICTION_CATALOG] = catalog_handler(keep)
    return table
