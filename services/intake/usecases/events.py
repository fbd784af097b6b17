"""What intake does with the events it consumes: routing's lifecycle and its catalogue."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime

from services.intake.domain.projection import Fact, apply
from services.intake.domain.report import Report
from services.intake.domain.triage import Correction
from shared.catalog import CatalogV1
from shared.uow import UnitOfWork

from .ports import CatalogCopies, Reports
from .triage import Corrections

log = logging.getLogger(__name__)


class ConsumedEvents:
    def __init__(
        self,
        reports: Reports,
        catalog: CatalogCopies,
        clock: Callable[[], datetime],
        *,
        own_source: str,
        corrections: Corrections | None = None,
    ) -> None:
        self.reports = reports
        self.catalog = catalog
        self.clock = clock
        self.own_source = own_source
        self.corrections = corrections

    async def lifecycle(self, facts: Sequence[Fact], uow: UnitOfWork) -> list[Fact]:
        """Routing's lifecycle events update the public view and timeline (sequence-guarded),
        a batch of them at once: one read of their reports, the facts applied in order (one
        report may have several in a batch), one write. Returns the facts whose report is
        unknown here (ignored)."""
        # intake applies its own changes when it makes them; one event id applies once
        facts = list({f.event_id: f for f in facts if f.source != self.own_source}.values())
        if not facts:
            return []
        facts = await self._named(facts)
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
        await self._learn(facts, stored, current, uow)
        return unknown

    async def _named(self, facts: list[Fact]) -> list[Fact]:
        """Recategorizations carry the new category's names (from the in-memory catalogue)."""
        if not any(f.category for f in facts):
            return facts
        data = await self.catalog.current()
        names = {c.code: c.name for c in data.categories} if data else {}
        return [replace(f, category_name=names.get(f.category)) if f.category else f for f in facts]

    async def _learn(
        self,
        facts: Sequence[Fact],
        stored: Mapping[str, Report],
        current: Mapping[str, Report],
        uow: UnitOfWork,
    ) -> None:
        """Each report whose category an operator changed in this batch becomes (again) one
        training example: its description with the category now in force."""
        if self.corrections is None:
            return
        for report_id in {f.report_id for f in facts if f.category}:
            before, after = stored.get(report_id), current.get(report_id)
            if before is None or after is None or after.category_at == before.category_at:
                continue  # unknown, or only older corrections than the one already applied
            first = before.triage.suggestions[0].category if before.triage else before.category
            correction = Correction(
                report_id=report_id,
                description=after.description,
                category=after.category,
                previous_category=before.category or first,
                at=after.category_at or self.clock(),
            )
            await self.corrections.put(correction, uow.session)

    async def catalog_published(self, catalog: CatalogV1, uow: UnitOfWork) -> bool:
        """Keeps intake's copy of the category catalogue (newest version wins), in the database
        and, once that commits, in memory."""
        if not await self.catalog.save(catalog, uow.session):
            return False
        uow.after_commit(lambda: self.catalog.remember(catalog))
        log.info("catalogue version %d stored", catalog.version)
        return True
