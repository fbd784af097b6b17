"""Routing is SIGKILLed while it routes a stream of reports: after a restart every report is
assigned, and nothing is assigned or announced twice."""

from __future__ import annotations

import asyncio

import httpx
from pymongo import AsyncMongoClient

from tests.faults.harness import (
    Document,
    Launcher,
    Posted,
    all_assigned,
    assigned_entries,
    assignments_per_report,
    catalogue_reached,
    outbox_events_per_report,
    post_report,
)
from tests.support import eventually

N = 30


async def test_routing_killed_mid_stream_loses_nothing_and_doubles_nothing(
    launcher: Launcher, http: httpx.AsyncClient, mongo: AsyncMongoClient[Document]
) -> None:
    intake, routing = launcher.service("intake"), launcher.service("routing")
    await launcher.start(http, routing, intake)
    await catalogue_reached(http, intake)

    # One after another, still arriving when routing dies: posted all at once, a fast routing
    # could finish them before the kill.
    async def post_in_turn() -> list[Posted]:
        return [await post_report(http, intake, i) for i in range(N)]

    posting = asyncio.create_task(post_in_turn())

    async def some_routed() -> int:
        return len(await assignments_per_report(mongo, routing.db))

    routed_before_kill = await eventually(some_routed, interval=0.02, what="routing under way")
    routing.kill()
    routing.start()
    reports = await posting

    await all_assigned(http, intake, reports, timeout=90)
    # Redelivered copies may still be in flight: count only once routing has committed them all.
    await launcher.caught_up(routing, "report.created")
    await launcher.caught_up(intake, "report.assigned")
    ids = {p.id for p in reports}
    assert await assignments_per_report(mongo, routing.db) == dict.fromkeys(ids, 1)
    announced = await outbox_events_per_report(mongo, routing.db, "report.assigned")
    assert announced == dict.fromkeys(ids, 1)
    assert [await assigned_entries(http, intake, p) for p in reports] == [1] * N
    assert routed_before_kill < N, "routing finished before the kill: nothing was in flight"
