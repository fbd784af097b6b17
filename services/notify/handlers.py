"""Subscribers: decode the event, hand it to the use case with the consumer's unit of work."""

from __future__ import annotations

from services.notify.domain.model import Incoming
from services.notify.usecases.events import RecordEvents
from shared.batch import Handler
from shared.events import (
    PAYLOADS,
    REPORT_TOPICS,
    CatalogV1,
    CloudEvent,
    ReportCreatedV1,
    Topic,
)
from shared.uow import UnitOfWork

# Fields of a payload that notify never keeps (resident text, places, photos, sealed contact).
_NOT_KEPT = {"contact_sealed", "description", "location", "address", "photo_urls", "attributes"}


def incoming(topic: str, event: CloudEvent) -> Incoming:
    """A report event as notify keeps it: no personal data, nothing it does not use."""
    data = event.payload(PAYLOADS[topic]).model_dump(
        mode="json", exclude=_NOT_KEPT, exclude_none=True
    )
    return Incoming(
        event_id=event.id,
        type=topic,
        report_id=event.subject,
        source=event.source.replace(".", "_"),
        sequence=event.sequence,
        time=event.time,
        agency_id=data.get("agency_id"),
        assignment_id=data.get("assignment_id"),
        attempt=data.get("attempt"),
        details=data,
    )


def sealed_contact(topic: str, event: CloudEvent) -> str | None:
    """`report.created`'s reporter contact, still sealed."""
    if topic != Topic.REPORT_CREATED:
        return None
    return event.payload(ReportCreatedV1).contact_sealed


class EventHandlers:
    def __init__(self, events: RecordEvents) -> None:
        self.events = events

    def for_topic(self, topic: str) -> Handler:
        async def handle(event: CloudEvent, uow: UnitOfWork) -> None:
            ev, sealed = incoming(topic, event), sealed_contact(topic, event)
            await self.events.report_event(ev, uow, contact_sealed=sealed)

        handle.__doc__ = f"Records who hears about `{topic}` and the report's status change."
        return handle

    def subscriptions(self) -> dict[str, Handler]:
        """The handler of every topic notify consumes: each `report.*` and the catalogue."""
        handlers = {str(topic): self.for_topic(topic) for topic in REPORT_TOPICS}
        return handlers | {Topic.JURISDICTION_CATALOG: self.on_catalog}

    async def on_catalog(self, event: CloudEvent, uow: UnitOfWork) -> None:
        """Keeps the newest catalogue: agencies' public contacts and category names."""
        await self.events.catalog(event.payload(CatalogV1), event.id, uow)
