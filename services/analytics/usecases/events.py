"""Incoming events: keep every report event for the projector, keep the newest catalogue."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from services.analytics.domain.facts import Recorded, kept
from shared.events import CatalogV1, CloudEvent
from shared.uow import Session, UnitOfWork


class EventLogWriter(Protocol):
    async def record(self, report_id: str, event: Recorded, session: Session = None) -> None: ...


class CatalogKeeper(Protocol):
    async def save(self, catalog: CatalogV1, session: Session) -> bool: ...

    async def load(self, session: Session = None) -> CatalogV1 | None: ...


class RecordReportEvent:
    """Keeps a report lifecycle event (without the fields analytics never needs) and marks the
    report for re-projection, in the consumer's unit of work."""

    def __init__(self, log: EventLogWriter, wake_projector: Callable[[], None]) -> None:
        self.log = log
        self.wake_projector = wake_projector

    async def __call__(self, topic: str, event: CloudEvent, uow: UnitOfWork) -> None:
        recorded = Recorded(
            event.id, topic, event.source, event.sequence, event.time, kept(event.data)
        )
        await self.log.record(event.subject, recorded, uow.session)
        # Before the commit: a projector pass that runs too early finds no mark and the next
        # periodic pass (`projector_interval_s`) picks the report up.
        self.wake_projector()


class KeepCatalog:
    """Keeps routing's newest catalogue (an older or repeated version is ignored)."""

    def __init__(self, catalog: CatalogKeeper) -> None:
        self.catalog = catalog

    async def __call__(self, catalog: CatalogV1, uow: UnitOfWork) -> bool:
        """True if `catalog` is now the kept one."""
        kept = await self.catalog.load(uow.session)
        if kept is not None and kept.version >= catalog.version:
            # Decided here, not by `save`: its duplicate-key fallback, raised inside the
            # consumer's transaction, aborts the transaction and the event is never committed.
            return False
        return await self.catalog.save(catalog, uow.session)
