"""The projector: recomputes the fact of every report marked dirty, from all its events."""

from __future__ import annotations

import asyncio
import logging
from datetime import tzinfo
from typing import Protocol

from services.analytics.domain.facts import DirtyMark, Fact, Recorded, build_fact
from shared.aio import wait_any
from shared.uow import Session

log = logging.getLogger(__name__)


class EventLogReader(Protocol):
    async def events_of(self, report_id: str, session: Session = None) -> list[Recorded]: ...

    async def dirty_batch(self, limit: int, session: Session = None) -> list[DirtyMark]: ...

    async def pending_count(self, session: Session = None) -> int: ...

    async def clear_dirty(self, mark: DirtyMark, session: Session = None) -> None: ...


class FactWriter(Protocol):
    async def save(self, fact: Fact, session: Session = None) -> None: ...


class Projector:
    """Events -> facts. Needs no transaction: a fact never replaces one built from more events,
    and a mark is cleared only if no event arrived since it was read, so a crash or a second
    replica at any point leaves the report marked or its fact complete."""

    def __init__(
        self,
        log: EventLogReader,
        facts: FactWriter,
        tz: tzinfo,
        *,
        interval_s: float,
        batch_size: int,
    ) -> None:
        self.log = log
        self.facts = facts
        self.tz = tz
        self.interval_s = interval_s
        self.batch_size = batch_size
        self._wake = asyncio.Event()

    def poke(self) -> None:
        """Starts the next pass now instead of at the end of the interval."""
        self._wake.set()

    async def pending(self) -> int:
        """How many reports wait for projection."""
        return await self.log.pending_count()

    async def run_once(self) -> int:
        """Projects one batch of dirty reports; returns how many it projected."""
        batch = await self.log.dirty_batch(self.batch_size)
        for mark in batch:
            events = await self.log.events_of(mark.report_id)
            if events:
                await self.facts.save(build_fact(mark.report_id, events, self.tz))
            await self.log.clear_dirty(mark)
        return len(batch)

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            self._wake.clear()  # before the pass: a poke during it starts the next one at once
            try:
                if await self.run_once() >= self.batch_size:
                    continue  # more are waiting: no pause
            except Exception as exc:  # the database may be briefly away; the marks stay
                log.warning("projection pass failed: %r", exc)
            await wait_any(stop, self._wake, timeout=self.interval_s)
