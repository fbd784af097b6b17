"""Incoming events: project a batch of report events into facts and rollups, keep the newest
catalogue."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import tzinfo

from services.analytics.domain.history import project, recorded
from services.analytics.domain.rollups import Delta
from services.analytics.usecases.catalog import CatalogMemory
from services.analytics.usecases.ports import Catalogs, Histories, Rollups
from shared.catalog import CatalogV1
from shared.events import CloudEvent, first_created
from shared.uow import UnitOfWork


class ProjectEvents:
    """Keeps a batch of report lifecycle events (without the fields analytics never needs) and,
    in the consumer's unit of work, recomputes the fact of each report they are about from all
    its events and moves the rollups from the old fact to the new one.

    One read (the batch's reports) and three writes (facts, rollups; the consumer adds its
    processed-event records), whatever the batch's size. An event already stored changes
    nothing; a conflicting write of another replica makes the whole unit of work run again.
    """

    def __init__(
        self,
        facts: Histories,
        rollups: Rollups,
        tz: tzinfo,
        cell_deg: float,
        *,
        ready: Callable[[], None],
        changed: Callable[[], None],
    ) -> None:
        self.facts = facts
        self.rollups = rollups
        self.tz = tz
        self.cell_deg = cell_deg
        self.ready = ready
        self.changed = changed

    async def __call__(self, events: Sequence[tuple[str, CloudEvent]], uow: UnitOfWork) -> int:
        """Projects `(topic, event)` pairs; returns how many reports got a new fact."""
        if not events:
            return 0
        self.ready()  # raises while the rollups are being built: the batch waits
        arriving = [(event.subject, recorded(topic, event)) for topic, event in events]
        # In an optimistic unit of work (new events), a report whose first event here is
        # `created` has no fact yet: not read (if it has one, the insert's duplicate key runs
        # the batch again, reading it).
        unknown = (
            first_created((e.subject, topic) for topic, e in events) if uow.optimistic else set()
        )
        to_read = sorted({r for r, _ in arriving} - unknown)
        stored = await self.facts.histories(to_read, uow.session) if to_read else {}
        delta = Delta(self.cell_deg)
        projected = project(stored, arriving, self.tz, delta)
        if projected:
            await self.facts.save(projected, uow.session)
            await self.rollups.apply(delta.lines(), uow.session)
            uow.after_commit(self.changed)
        return len(projected)


class KeepCatalog:
    """Keeps routing's newest catalogue (an older or repeated version is ignored) and holds it
    in memory once committed."""

    def __init__(self, catalog: Catalogs, memory: CatalogMemory) -> None:
        self.catalog = catalog
        self.memory = memory

    async def __call__(self, catalog: CatalogV1, uow: UnitOfWork) -> bool:
        """True if `catalog` is now the kept one."""
        held = self.memory.held()
        if held is not None and held.version >= catalog.version:
            return False  # what memory holds is committed: the stored copy is at least as new
        kept = await self.catalog.load(uow.session)
        if kept is not None and kept.version >= catalog.version:
            # Decided here, not by `save`: its duplicate-key fallback, raised inside the
            # consumer's transaction, aborts the transaction and the event is never committed.
            return False
        saved = await self.catalog.save(catalog, uow.session)
        if saved:
            uow.after_commit(lambda: self.memory.offer(catalog))
        return saved
