"""Every query analytics sends, consuming and answering (with and without a date window, the
gauges too), is served by an index with no `$or`; a batch of events costs a few operations,
however many events it holds."""

from __future__ import annotations

import time
from typing import Any

import pytest

from shared.events import CloudEvent
from tests.analytics.conftest import Running, consumed, load
from tests.analytics.factory import Story
from tests.perf.plans import Query, bounded_without_index, has_or, plan_stages, queries_of
from tests.support import eventually

WINDOW = {"from": "2025-03-01", "to": "2025-03-31"}
READS: list[tuple[str, dict[str, str]]] = [
    (table, params)
    for table in ("summary", "scoreboard", "categories", "corrections", "timeseries", "grid")
    for params in (
        {},
        WINDOW,
        {"agency": "water", "category": "flood,pothole"},
        {"from": WINDOW["from"]},
    )
] + [("grid", {"cell": "0.05"}), ("timeseries", {"interval": "week", **WINDOW})]


async def _profiled(running: Running) -> list[dict[str, Any]]:
    return [e async for e in running.runtime.db["system.profile"].find({}, {"command": 1})]


@pytest.fixture(scope="module")
async def shapes(running: Running) -> dict[str, Query]:
    db = running.runtime.db
    await db.command("profile", 2)
    await load(running)
    start = time.time()
    for table, params in READS:
        response = await running.client.get(f"/api/v1/stats/{table}", params=params)
        assert response.status_code == 200, (table, params, response.text)

    async def gauges_refreshed() -> bool:
        text = (await running.client.get("/metrics")).text
        line = next(x for x in text.splitlines() if x.startswith("analytics_gauges_refreshed"))
        return float(line.split()[-1]) > start

    await eventually(gauges_refreshed, timeout=20, what="a gauge refresh after the load")
    found: dict[str, Query] = {}
    for entry in await _profiled(running):
        for query in queries_of(entry):
            if not query.collection.startswith("system."):
                found.setdefault(query.shape, query)
    await db.command("profile", 0)
    return found


def test_the_reads_and_the_consumer_were_recorded(shapes: dict[str, Query]) -> None:
    # (the inbox is only inserted into: it is read when a batch holds an event applied before)
    assert {q.collection for q in shapes.values()} >= {"facts", "rollups"}


def test_no_query_uses_or(shapes: dict[str, Query]) -> None:
    assert [s for s, q in shapes.items() if has_or(q.filter)] == []


async def test_every_query_is_served_by_an_index(
    shapes: dict[str, Query], running: Running
) -> None:
    scans = []
    for shape, query in sorted(shapes.items()):
        if bounded_without_index(query):
            continue
        stages = await plan_stages(running.runtime.db, query)
        if "IXSCAN" not in stages:
            scans.append(f"{shape} -> {stages}")
    assert scans == []


def _consuming(entries: list[dict[str, Any]]) -> int:
    """The consumer's operations: its writes and its reads by id (not the gauges' reads)."""
    n = 0
    for entry in entries:
        cmd = entry.get("command") or {}
        name = next(iter(cmd), "")
        n += name in ("insert", "update") or (name == "find" and "_id" in cmd.get("filter", {}))
    return n


async def _ops_for(running: Running, events: list[CloudEvent]) -> int:
    """Operations the database recorded while analytics consumed `events` (commits, which
    the profiler does not record, are one per batch on top)."""
    db = running.runtime.db
    await db.command("profile", 2)
    before, target = _consuming(await _profiled(running)), consumed(running) + len(events)
    await running.publish(*events)

    async def done() -> bool:
        return consumed(running) >= target

    await eventually(done, timeout=60, what="events consumed")
    ops = _consuming(await _profiled(running)) - before
    await db.command("profile", 0)
    return ops


async def test_a_lone_event_costs_five_operations(
    shapes: dict[str, Query], running: Running
) -> None:
    story = Story("lone").created().assigned(5)
    # inbox insert, the report's read, its fact, the rollups (and the commit)
    assert await _ops_for(running, story.events[:1]) <= 5
    assert await _ops_for(running, story.events[1:]) <= 5


async def test_a_burst_costs_a_few_operations_per_batch(
    shapes: dict[str, Query], running: Running
) -> None:
    events = [Story(f"b{i}").created().events[0] for i in range(200)]
    ops = await _ops_for(running, events)
    assert ops / len(events) <= 0.25, ops
