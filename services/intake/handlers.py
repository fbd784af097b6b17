"""Subscribers: decode the event, call the use case in the consumer's unit of work."""

from __future__ import annotations

from services.intake.domain.projection import fact_from_event
from services.intake.usecases.events import ConsumedEvents
from shared.events import CatalogV1, CloudEvent
from shared.uow import UnitOfWork


class Handlers:
    def __init__(self, events: ConsumedEvents) -> None:
        self.events = events

    async def on_lifecycle(self, event: CloudEvent, uow: UnitOfWork) -> None:
        """Routing's lifecycle events update the public view and timeline (sequence-guarded)."""
        await self.events.lifecycle(fact_from_event(event), uow)

    async def on_catalog(self, event: CloudEvent, uow: UnitOfWork) -> None:
        """Keeps intake's copy of the category catalogue (newest version wins)."""
        await self.events.catalog_published(event.payload(CatalogV1), uow)
