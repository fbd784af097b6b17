"""The per-process fan-out of status streams, with a fake store. No I/O."""

from __future__ import annotations

import asyncio

from services.notify.stream import StatusHub
from tests.support import eventually


class FakeStore:
    def __init__(self) -> None:
        self.counters: dict[str, int] = {}
        self.queries: list[list[str]] = []

    async def stream_counters(self, ids: list[str]) -> dict[str, int]:
        self.queries.append(ids)
        return {i: self.counters[i] for i in ids if i in self.counters}


def hub_with(store: FakeStore) -> StatusHub:
    return StatusHub(store, interval_s=1)


async def test_new_watcher_starts_awake_to_catch_up() -> None:
    assert hub_with(FakeStore()).watch("r1").is_set()


async def test_one_query_wakes_every_watcher_of_a_moved_report() -> None:
    store = FakeStore()
    hub = hub_with(store)
    a, b, other = hub.watch("r1"), hub.watch("r1"), hub.watch("r2")
    for event in (a, b, other):
        event.clear()
    store.counters["r1"] = 1
    await hub.poll_once()
    assert (a.is_set(), b.is_set(), other.is_set()) == (True, True, False)
    assert len(store.queries) == 1


async def test_unchanged_report_wakes_nobody() -> None:
    store = FakeStore()
    store.counters["r1"] = 2
    hub = hub_with(store)
    watcher = hub.watch("r1")
    await hub.poll_once()
    watcher.clear()
    await hub.poll_once()
    assert not watcher.is_set()


async def test_unwatched_reports_are_not_polled() -> None:
    store = FakeStore()
    hub = hub_with(store)
    hub.unwatch("r1", hub.watch("r1"))
    await hub.poll_once()
    assert store.queries == []


async def test_the_hub_asks_nothing_while_no_stream_is_open() -> None:
    store = FakeStore()
    hub = StatusHub(store, interval_s=0.01)
    stop = asyncio.Event()
    task = asyncio.create_task(hub.run(stop))
    try:
        await asyncio.sleep(0.1)
        assert store.queries == []
        watcher = hub.watch("r1")
        await eventually(lambda: _asked(store), timeout=5, what="asked once a stream opened")
        hub.unwatch("r1", watcher)
        await asyncio.sleep(0.05)
        asked = len(store.queries)
        await asyncio.sleep(0.1)
        assert len(store.queries) == asked
    finally:
        stop.set()
        await task


async def _asked(store: FakeStore) -> bool:
    return bool(store.queries)
