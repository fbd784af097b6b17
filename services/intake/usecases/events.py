"""What intake does with the events it consumes: routing's lifecycle and its catalogue."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import datetime

from services.intake.domain.projection import Fact, apply
from shared.catalog import CatalogV1
from shared.uow import UnitOfWork

from .ports import CatalogCopies, Reports

log = logging.getLogger(__name__)


class ConsumedEvents:
    def __init__(
        self,
        reports: Reports,
        catalog: CatalogCopies,
        clock: Callable[[], datetime],
        *,
        own_source: str,
    ) -> None:
        self.reports = reports
        self.catalog = catalog
        self.clock = clock
        self.own_source = own_source

    async def lifecycle(self, facts: Sequence[Fact], uow: UnitOfWork) -> list[Fact]:
        """Routing's lifecycle events update the public view and timeline (sequence-guarded),
        a batch of them at once: one read of their reports, the facts applied in order (one
        report may have several in a batch), one write. Returns the facts whose report is
        unknown here (ignored)."""
        # intake applies its own changes when it makes them; one event id applies once
        facts = list({f.event_id: f for f in facts if f.source != self.own_source}.values())
        if not facts:
            return []
        stored = await self.reports.get_many({f.report_id for f in facts}, uow.session)
        current = dict(stored)
        now = self.clock()
        unknown = []
        for fact in facts:
            report = current.get(fact.report_id)
            if report is None:
                unknown.append(fact)
                continue
            current[fact.report_id] = apply(report, fact, now)
        changes = [(stored[i], current[i]) for i in stored if current[i] is not stored[i]]
        await self.reports.save_many(changes, uow.session)
        return unknown

    async def catalog_published(self, catalog: CatalogV1, uow: UnitOfWork) -> bool:
        """Keeps intake's copy of the category catalogue (newest version wins), in the database
        and, once that commits, in memory."""
        if not await self.catalog.save(catalog, uow.session):
            return False
        uow.after_commit(lambda: self.catalog.remember(catalog))
        log.info("catalogue version %d stored", catalog.version)
        return True
