"""Thin event handlers: keep the event, mark its report for re-projection (one transaction)."""

from __future__ import annotations

from collections.abc import Callable

from pymongo.asynchronous.client_session import AsyncClientSession

from services.analytics.domain.catalog import catalog_names
from services.analytics.store import AnalyticsStore
from shared.consumer import SessionHandler
from shared.events import CatalogV1, CloudEvent


def report_handler(topic: str, store: AnalyticsStore, poke: Callable[[], None]) -> SessionHandler:
    async def on_report_event(event: CloudEvent, session: AsyncClientSession) -> None:
        """Records a report lifecycle event for the per-report fact projection."""
        await store.record(
            topic,
            event.id,
            event.subject,
            event.source,
            event.sequence,
            event.time,
            event.data,
            session,
        )
        poke()

    return on_report_event


def catalog_handler(store: AnalyticsStore) -> SessionHandler:
    async def on_catalog(event: CloudEvent, session: AsyncClientSession) -> None:
        """Keeps the newest catalogue's agency and category names (older versions ignored)."""
        catalog = event.payload(CatalogV1)
        await store.save_catalog(catalog.version, catalog_names(catalog), session)

    return on_catalog
