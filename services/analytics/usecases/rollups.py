"""Building the rollups from the facts: at start, when their rules or grid cell changed (or
they were never built), and by `python -m services.analytics.rebuild --rollups`. At the first
start after an earlier version, its event log is moved into the facts first."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import tzinfo

from services.analytics.domain.facts import build_fact
from services.analytics.domain.history import Projected
from services.analytics.domain.rollups import Delta, RollupBasis
from services.analytics.usecases.ports import LegacyLog, Rollups, StoredFacts
from shared.aio import wait_any

log = logging.getLogger(__name__)


class BuildRollups:
    """Makes the stored rollups match the facts, then calls `opened` (the consumer waits)."""

    def __init__(
        self,
        facts: StoredFacts,
        rollups: Rollups,
        basis: RollupBasis,
        opened: Callable[[], None] = lambda: None,
        retry_s: float = 5.0,
        legacy: tuple[LegacyLog, tzinfo] | None = None,
    ) -> None:
        self.facts = facts
        self.rollups = rollups
        self.basis = basis
        self.opened = opened
        self.retry_s = retry_s
        self.legacy = legacy

    async def convert_legacy(self) -> int:
        """Moves an earlier version's event log into the facts; returns the reports moved."""
        if self.legacy is None or not await self.legacy[0].exists():
            return 0
        log_, tz = self.legacy
        batch: list[Projected] = []
        n = 0
        async for report_id, events in log_.reports():
            unique = tuple({e.id: e for e in events}.values())
            batch.append(Projected(build_fact(report_id, unique, tz), unique))
            n += 1
            if len(batch) >= 500:
                await self.facts.save(batch)
                batch = []
        await self.facts.save(batch)
        await log_.drop()
        return n

    async def rebuild(self) -> int:
        """The rollups anew from every stored fact (quiet times only: not in a transaction, a
        fact changed meanwhile would be missed); returns the number of facts."""
        delta, n = Delta(self.basis.cell_deg), 0
        if await self.facts.any():
            async for fact in self.facts.every_fact():
                delta.add(fact)
                n += 1
        await self.rollups.replace_all(delta.lines(), self.basis)
        return n

    async def ensure(self) -> bool:
        """Rebuilds unless the stored rollups were built with this basis; True if rebuilt."""
        rebuilt = False
        moved = await self.convert_legacy()
        if moved:
            log.info("moved the events of %d reports into their facts", moved)
        if moved or await self.rollups.basis() != self.basis:
            n = await self.rebuild()
            log.info("rollups rebuilt from %d facts (%s)", n, self.basis)
            rebuilt = True
        self.opened()
        return rebuilt

    async def run(self, stop: asyncio.Event) -> None:
        """Once at start (again after a failure, e.g. the database still away)."""
        while not stop.is_set():
            try:
                await self.ensure()
                return
            except Exception as exc:
                log.warning("rollups not checked yet: %r", exc)
            await wait_any(stop, timeout=self.retry_s)
