"""Fan-out for the live status streams of one process.

However many streams are open, the process asks MongoDB once per interval for the stream
counters of the watched reports, and wakes only the streams whose report moved; those then
read their new status changes. With no stream open it asks nothing (and sleeps until one
opens). The data comes from notify's database, so any replica serves
any stream.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import Callable
from typing import Protocol

from shared.aio import wait_any

log = logging.getLogger(__name__)


class StreamCounters(Protocol):
    async def stream_counters(self, report_ids: list[str]) -> dict[str, int]: ...


class StatusHub:
    def __init__(self, store: StreamCounters, interval_s: float) -> None:
        self.store = store
        self.interval_s = interval_s
        self._watchers: dict[str, set[asyncio.Event]] = defaultdict(set)
        self._seen: dict[str, int] = {}
        self._watched = asyncio.Event()  # set while a stream is open

    def watch(self, report_id: str) -> asyncio.Event:
        """An event set whenever the report may have new changes (set at first: catch up)."""
        event = asyncio.Event()
        event.set()
        self._watchers[report_id].add(event)
        self._watched.set()
        return event

    def unwatch(self, report_id: str, event: asyncio.Event) -> None:
        watchers = self._watchers.get(report_id)
        if watchers is None:
            return
        watchers.discard(event)
        if not watchers:
            del self._watchers[report_id]
            self._seen.pop(report_id, None)

    async def poll_once(self) -> None:
        ids = list(self._watchers)
        if not ids:
            return
        for report_id, n in (await self.store.stream_counters(ids)).items():
            if n > self._seen.get(report_id, 0):
                self._seen[report_id] = n
                for event in self._watchers.get(report_id, ()):
                    event.set()

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            if not self._watchers:
                self._watched.clear()
                await wait_any(self._watched, stop)
                continue
            try:
                await self.poll_once()
            except Exception as exc:
                log.warning("status stream poll: %s", type(exc).__name__)
            await wait_any(stop, timeout=self.interval_s)
        for watchers in self._watchers.values():  # let open streams notice the shutdown
            for event in watchers:
                event.set()


class StreamSlot:
    """One admitted stream; `release` is idempotent (called from more than one exit path)."""

    def __init__(self, limit: StreamLimit) -> None:
        self._limit = limit
        self._held = True

    def release(self) -> None:
        if self._held:
            self._held = False
            self._limit._release()


class StreamLimit:
    """Caps the live status streams one process holds open (each is a socket and a task)."""

    def __init__(self, max_streams: int, on_change: Callable[[int], None] | None = None) -> None:
        self.max_streams = max_streams
        self.open = 0
        self._on_change = on_change

    def acquire(self) -> StreamSlot | None:
        """A slot for one more stream, or None when the process is at its cap."""
        if self.open >= self.max_streams:
            return None
        self.open += 1
        self._changed()
        return StreamSlot(self)

    def _release(self) -> None:
        self.open -= 1
        self._changed()

    def _changed(self) -> None:
        if self._on_change is not None:
            self._on_change(self.open)
