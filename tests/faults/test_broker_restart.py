"""The (in-memory) broker dies and a new one takes its port: intake keeps accepting reports, and
every report is assigned once the broker is back (outbox relay + intake's reconciler)."""

from __future__ import annotations

from pathlib import Path

import httpx
from pymongo import AsyncMongoClient

from shared.kafka import all_topics, ensure_topics
from tests.conftest import Infra
from tests.faults.harness import (
    Document,
    Launcher,
    OwnServer,
    all_assigned,
    assignments_per_report,
    catalogue_reached,
    post_reports,
)
from tests.support import eventually, unique

N = 10


async def test_reports_posted_around_a_broker_restart_are_all_assigned(
    infra: Infra,
    own_kafka: OwnServer,
    http: httpx.AsyncClient,
    mongo: AsyncMongoClient[Document],
    tmp_path: Path,
) -> None:
    prefix = unique("bk") + "."
    await ensure_topics(own_kafka.address, all_topics(prefix), partitions=3)
    launcher = Launcher(tmp_path, own_kafka.address, infra.mongodb_uri, prefix)
    try:
        intake = launcher.service("intake", RECONCILE_AFTER_S="2", RECONCILE_INTERVAL_S="1")
        routing = launcher.service("routing")
        await launcher.start(http, routing, intake)
        await catalogue_reached(http, intake)
        before = await post_reports(http, intake, N)

        async def some_routed() -> int:
            return len(await assignments_per_report(mongo, routing.db))

        await eventually(some_routed, interval=0.05, what="routing under way")
        own_kafka.stop()  # every topic, event and committed offset is gone with it
        during = await post_reports(http, intake, N, start=N)  # each one answered 201
        own_kafka.start()
        await ensure_topics(own_kafka.address, all_topics(prefix), partitions=3)

        reports = before + during
        await all_assigned(http, intake, reports, timeout=120)
        await launcher.caught_up(routing, "report.created")  # no copy still on its way
        counts = await assignments_per_report(mongo, routing.db)
        assert counts == dict.fromkeys((p.id for p in reports), 1)
    finally:
        launcher.stop_all()
