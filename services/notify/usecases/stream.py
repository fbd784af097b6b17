"""The live status stream of one report: admission, then its status changes as they happen."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncGenerator, Awaitable, Callable
from dataclasses import dataclass

from services.notify.domain.errors import ReportNotFound, TooManyClientStreams, TooManyStreams
from services.notify.domain.model import StatusChange
from services.notify.stream import StatusHub, StreamLimit, StreamSlot
from services.notify.usecases.ports import Reports


@dataclass(frozen=True)
class StreamConfig:
    keepalive_s: float
    max_lifetime_s: float = 600.0  # then the stream ends; EventSource reconnects by itself
    retry_after_s: int = 5  # told to clients refused because the process is at its cap
    client_retry_after_s: int = 30  # told to a client refused because it holds its own cap


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

    async def open(self, report_id: str, client: str) -> StreamSlot:
        """A slot for one stream of a report notify knows; refused when the client (its
        address) or the process holds its maximum of open streams."""
        if not await self.reports.known(report_id):
            raise ReportNotFound
        if self.limit.client_full(client):
            raise TooManyClientStreams(self.config.client_retry_after_s)
        slot = self.limit.acquire(client)
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
        a keep-alive is due; ends at shutdown, when the client goes or after the stream's
        maximum lifetime (the slot given back)."""
        moved = self.hub.watch(report_id)
        last_write = time.monotonic()
        ends = last_write + self.config.max_lifetime_s
        keepalive = self.config.keepalive_s
        try:
            while (
                not self.stopping.is_set() and time.monotonic() < ends and not await disconnected()
            ):
                if moved.is_set():
                    moved.clear()
                    for change in await self.reports.status_changes(report_id, after):
                        after = change.n
                        last_write = time.monotonic()
                        yield change
                try:
                    # Wake for news, or at least once a second to notice a disconnect.
                    wait = min(1.0, keepalive, max(ends - time.monotonic(), 0.0))
                    await asyncio.wait_for(moved.wait(), timeout=wait)
                except TimeoutError:
                    if time.monotonic() - last_write >= keepalive:
                        last_write = time.monotonic()
                        yield None
        finally:
            self.hub.unwatch(report_id, moved)
            slot.release()
