"""The subscriber: one batch handler for every topic analytics consumes. The report events of a
polled batch are projected together (one read, bulk writes); a catalogue is kept on its own."""

from __future__ import annotations

from services.analytics.usecases.events import KeepCatalog, ProjectEvents
from shared.batch import BatchHandler, Incoming, event_scope
from shared.catalog import CatalogV1
from shared.events import REPORT_TOPICS, CloudEvent, Topic
from shared.uow import UnitOfWork

# What analytics does with each topic (for the AsyncAPI document).
TOPICS: dict[str, str] = {
    **{
        str(t): "Keeps the report event and re-projects the report's fact and the rollups"
        for t in REPORT_TOPICS
    },
    str(Topic.JURISDICTION_CATALOG): "Keeps the newest catalogue (older versions ignored)",
}


def batch_handler(project: ProjectEvents, keep: KeepCatalog) -> BatchHandler:
    async def on_batch(batch: list[Incoming], uow: UnitOfWork) -> None:
        reports: list[tuple[str, CloudEvent]] = []
        for one in batch:
            if one.topic == Topic.JURISDICTION_CATALOG:
                with event_scope(one.topic, one.event, one.headers):
                    await keep(one.event.payload(CatalogV1), uow)
            else:
                reports.append((one.topic, one.event))
        await project(reports, uow)

    return on_batch
