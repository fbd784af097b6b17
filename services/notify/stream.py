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

    def __init__(self, limit: StreamLimit, client: str) -> None:
        self._limit = limit
        self._client = client
        self._held = True

    def release(self) -> None:
        if self._held:
            self._held = False
            self._limit._release(self._client)


class StreamLimit:
    """Caps the live status streams one process holds open (each is a socket and a task), in
    all and per client address (one client cannot take every slot)."""

    def __init__(
        self,
        max_streams: int,
        max_per_client: int,
        on_change: Callable[[int], None] | None = None,
    ) -> None:
        self.max_streams = max_streams
        self.max_per_client = max_per_client
        self.open = 0
        self._by_client: dict[str, int] = {}
        self._on_change = on_change

    def client_full(self, client: str) -> bool:
        return self._by_client.get(client, 0) >= self.max_per_client

    def acquire(self, client: str) -> StreamSlot | None:
        """A slot for one more stream of `client`, or None when the process or the client is
        at its cap."""
        if self.open >= self.max_streams or self.client_full(client):
            return None
        self.open += 1
        self._by_client[client] = self._by_client.get(client, 0) + 1
        self._changed()
        return StreamSlot(self, client)

    def _release(self, client: str) -> None:
        self.open -= 1
        left = self._by_client.get(client, 1) - 1
        if left > 0:
            self._by_client[client] = left
        else:
            self._by_client.pop(client, None)  # the map holds only clients with open streams
        self._changed()

    def _changed(self) -> None:
        if self._on_change is not None:
            self._on_change(self.open)
