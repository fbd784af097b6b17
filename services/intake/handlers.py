"""Thin event handlers: decode, ask the domain, write through the store in the given session."""

from __future__ import annotations

import logging

from pymongo.asynchronous.client_session import AsyncClientSession

from services.intake.domain.projection import fact_from_event, project, timeline_entry
from services.intake.store import Store
from shared.events import CatalogV1, CloudEvent, utcnow

log = logging.getLogger(__name__)


class Handlers:
    def __init__(self, store: Store, own_source: str) -> None:
        self.store = store
        self.own_source = own_source

    async def on_lifecycle(self, event: CloudEvent, session: AsyncClientSession) -> None:
        """Routing's lifecycle events update the public view and timeline (sequence-guarded)."""
        if event.source == self.own_source:
            return  # intake applies its own changes when it makes them
        view = await self.store.get(event.subject, session)
        if view is None:
            log.warning("lifecycle event for an unknown report ignored")
            return
        fact = fact_from_event(event)
        now = utcnow()
        changes, applied = project(view, fact, now)
        entry = timeline_entry(fact, applied=applied, recorded_at=now)
        await self.store.update(event.subject, changes, session, timeline=[entry])

    async def on_catalog(self, event: CloudEvent, session: AsyncClientSession) -> None:
        """Keeps intake's copy of the category catalogue (newest version wins)."""
        catalog = event.payload(CatalogV1)
        if await self.store.save_catalog(catalog, session):
            log.info("catalogue version %d stored", catalog.version)
