"""The live status stream of one report: admission, then its status changes as they happen."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncGenerator, Awaitable, Callable
from dataclasses import dataclass

from services.notify.domain.errors import ReportNotFound, TooManyStreams
from services.notify.domain.model import StatusChange
from services.notify.stream import StatusHub, StreamLimit, StreamSlot
from services.notify.usecases.ports import Reports


@dataclass(frozen=True)
class StreamConfig:
    keepalive_s: float
    retry_after_s: int = 5  # told to clients refused because the process is at its cap


class StatusStream:
    def __init__(
        self,
        reports: Reports,
        hub: StatusHub,
        limit: StreamLimit,
        config: StreamConfig,
        stopping: asyncio.Event,
    ) -> None:
        self.reports = reports
        self.hub = hub
        self.limit = limit
        self.config = config
        self.stopping = stopping

    async def open(self, report_id: str) -> StreamSlot:
        """A slot for one stream of a report notify knows; refused when the process is full."""
        if not await self.reports.known(report_id):
            raise ReportNotFound
        slot = self.limit.acquire()
        if slot is None:
            raise TooManyStreams(self.config.retry_after_s)
        return slot

    async def changes(
        self,
        report_id: str,
        after: int,
        slot: StreamSlot,
        disconnected: Callable[[], Awaitable[bool]],
    ) -> AsyncGenerator[StatusChange | None, None]:
        """The report's status changes numbered above `after`, as they happen, with None when
        a keep-alive is due; ends at shutdown or when the client goes (the slot given back)."""
        moved = self.hub.watch(report_id)
        last_write = time.monotonic()
        keepalive = self.config.keepalive_s
        try:
            while not self.stopping.is_set() and not await disconnected():
                if moved.is_set():
                    moved.clear()
                    for change in await self.reports.status_changes(report_id, after):
                        after = change.n
                        last_write = time.monotonic()
                        yield change
                try:
                    # Wake for news, or at least once a second to notice a disconnect.
                    await asyncio.wait_for(moved.wait(), timeout=min(1.0, keepalive))
                except TimeoutError:
                    if time.monotonic() - last_write >= keepalive:
                        last_write = time.monotonic()
                        yield None
        finally:
            self.hub.unwatch(report_id, moved)
            slot.release()
