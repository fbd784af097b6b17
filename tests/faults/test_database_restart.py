"""Routing's database goes away while reports flow: routing reports not-ready, leaves the
messages uncommitted, and assigns every report exactly once when the database is back."""

from __future__ import annotations

import httpx
from pymongo import AsyncMongoClient

from tests.faults.harness import (
    Document,
    Launcher,
    OwnServer,
    all_assigned,
    assigned_entries,
    assignments_per_report,
    catalogue_reached,
    outbox_events_per_report,
    post_reports,
)
from tests.support import eventually

N = 10


async def test_routing_database_down_and_back_assigns_every_report_once(
    launcher: Launcher,
    own_mongo: OwnServer,
    http: httpx.AsyncClient,
) -> None:
    routing = launcher.service("routing", MONGODB_URI=own_mongo.address, MONGODB_TIMEOUT_MS="1000")
    intake = launcher.service("intake")
    await launcher.start(http, routing, intake)
    await catalogue_reached(http, intake)
    routing_db: AsyncMongoClient[Document] = AsyncMongoClient(
        own_mongo.address, serverSelectionTimeoutMS=20000
    )
    try:
        before = await post_reports(http, intake, N)

        async def some_routed() -> int:
            return len(await assignments_per_report(routing_db, routing.db))

        await eventually(some_routed, interval=0.05, what="routing under way")
        own_mongo.stop()
        during = await post_reports(http, intake, N, start=N)

        async def not_ready() -> bool:
            return (await http.get(routing.url + "/health/ready")).status_code == 503

        await eventually(not_ready, timeout=30, what="routing not ready without its database")
        own_mongo.start()  # same data dir: what routing stored before is still there

        reports = before + during
        await all_assigned(http, intake, reports, timeout=90)
        # Redelivered messages may still be in flight: count once routing committed them all.
        await launcher.caught_up(routing, "report.created")
        await launcher.caught_up(intake, "report.assigned")
        ids = {p.id for p in reports}
        assert await assignments_per_report(routing_db, routing.db) == dict.fromkeys(ids, 1)
        announced = await outbox_events_per_report(routing_db, routing.db, "report.assigned")
        assert announced == dict.fromkeys(ids, 1)
        assert [await assigned_entries(http, intake, p) for p in reports] == [1] * len(reports)
    finally:
        await routing_db.close()
