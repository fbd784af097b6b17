"""What intake does with the events it consumes: routing's lifecycle and its catalogue."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from services.intake.domain.projection import Fact, apply
from shared.events import CatalogV1
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

    async def lifecycle(self, fact: Fact, uow: UnitOfWork) -> None:
        """Routing's lifecycle events update the public view and timeline (sequence-guarded)."""
        if fact.source == self.own_source:
            return  # intake applies its own changes when it makes them
        report = await self.reports.get(fact.report_id, uow.session)
        if report is None:
            log.warning("lifecycle event for an unknown report ignored")
            return
        await self.reports.save(report, apply(report, fact, self.clock()), uow.session)

    async def catalog_published(self, catalog: CatalogV1, uow: UnitOfWork) -> None:
        """Keeps intake's copy of the category catalogue (newest version wins)."""
        if await self.catalog.save(catalog, uow.session):
            log.info("catalogue version %d stored", catalog.version)
