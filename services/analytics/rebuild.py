"""`python -m services.analytics.rebuild`: rebuilds every analytics projection from the topics.

A new consumer group reads every `report.*` topic and `jurisdiction.catalog` from the earliest
offset into a fresh database, with the same handler as the live service (it projects each batch
as it consumes it). When the group's committed offsets reach the end of every partition, it
prints the numbers of the rebuilt and the live database side by side (JSON) and
how to switch the service to the rebuilt one (restart it with the printed `MONGODB_DB` and
`KAFKA_GROUP_ID`: that group's offsets match the rebuilt database exactly).

Options: `--stamp` (suffix of the group and database names; default the UTC time), `--timeout`
(seconds; exit status 1 if not caught up by then).

`--rollups` instead rebuilds the live database's rollups from its facts, in place (after facts
were written by something other than the service, e.g. a bulk copy of history; run it while
no event flows: it is not one transaction). It prints the number of facts.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from dataclasses import asdict
from datetime import datetime
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition

from services.analytics.app import Analytics, build_projection
from services.analytics.domain.rollups import ROLLUP_VERSION, RollupBasis
from services.analytics.domain.stats import Filters
from services.analytics.settings import AnalyticsSettings
from services.analytics.stores import FactQueries, FactStore, RollupStore
from services.analytics.usecases.rollups import BuildRollups
from services.analytics.usecases.statistics import Statistics
from shared.catalog_copy import CatalogCopy
from shared.events import REPORT_TOPICS, Topic, utcnow
from shared.mongo import make_client


def rebuild_settings(settings: AnalyticsSettings, stamp: str) -> AnalyticsSettings:
    """The same settings with a new consumer group and a fresh database."""
    return settings.model_copy(
        update={
            "kafka_group_id": f"{settings.group_id}-rebuild-{stamp}",
            "mongodb_db": f"{settings.database_name}_rebuild_{stamp}",
        }
    )


async def end_offsets(settings: AnalyticsSettings) -> dict[TopicPartition, int]:
    """The current end of every partition of the topics analytics consumes."""
    consumer = AIOKafkaConsumer(bootstrap_servers=settings.kafka_bootstrap_servers)
    await consumer.start()
    try:
        existing = await consumer.topics()
        partitions = [
            TopicPartition(name, p)
            for topic in (*REPORT_TOPICS, Topic.JURISDICTION_CATALOG)
            if (name := settings.topic(topic)) in existing
            for p in consumer.partitions_for_topic(name) or ()
        ]
        return dict(await consumer.end_offsets(partitions)) if partitions else {}
    finally:
        await consumer.stop()


async def committed_offsets(
    settings: AnalyticsSettings, partitions: list[TopicPartition]
) -> dict[TopicPartition, int]:
    """The group's committed offsets, read without joining it (no rebalance)."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=settings.kafka_bootstrap_servers,
        group_id=settings.group_id,
        enable_auto_commit=False,
    )
    await consumer.start()
    try:
        return {tp: (await consumer.committed(tp)) or 0 for tp in partitions}
    finally:
        await consumer.stop()


async def caught_up(settings: AnalyticsSettings, ends: dict[TopicPartition, int]) -> bool:
    """Every partition committed up to `ends` (offsets are committed after the projection)."""
    committed = await committed_offsets(settings, [tp for tp, end in ends.items() if end > 0])
    return all(committed.get(tp, -1) >= end for tp, end in ends.items() if end > 0)


async def numbers(statistics: Statistics, now: datetime) -> dict[str, Any]:
    """What a rebuild is compared on: summary, scoreboard and categories at the same instant."""
    everything = Filters()
    board = await statistics.scoreboard(everything, "vi", "agency_id", False, now)
    return {
        "summary": asdict(await statistics.summary(everything, "vi", now)),
        "scoreboard": [asdict(row) for row in board],
        "categories": [asdict(row) for row in await statistics.categories(everything, "vi", now)],
    }


async def rebuild(
    settings: AnalyticsSettings, *, stamp: str | None = None, timeout_s: float = 600.0
) -> dict[str, Any]:
    """Runs the rebuild to the end of the topics as they were when it started; returns a report."""
    started = time.monotonic()
    target = rebuild_settings(settings, stamp or utcnow().strftime("%Y%m%dT%H%M%S"))
    ends = await end_offsets(target)
    parts: Analytics = build_projection(target)
    await parts.runtime.start()
    try:
        deadline = started + timeout_s
        done = False
        while time.monotonic() < deadline:
            ready = parts.runtime.kafka_ready.is_set()
            if ready and await caught_up(target, ends):
                done = True
                break
            await asyncio.sleep(0.5)
        now = utcnow()
        statistics = parts.use_cases.statistics
        rebuilt = await numbers(statistics, now)
        live_client = make_client(settings)
        try:
            live_db = live_client[settings.database_name]
            live_statistics = Statistics(
                FactQueries(live_db, settings.grid_default_cell_deg),
                CatalogCopy(live_db),
                utcnow,
                statistics.grid_limits,
            )
            live = await numbers(live_statistics, now)
        finally:
            await live_client.close()
    finally:
        await parts.runtime.stop()
    return {
        "caught_up": done,
        "seconds": round(time.monotonic() - started, 1),
        "messages": sum(ends.values()),
        "group_id": target.group_id,
        "database": target.database_name,
        "same_as_live": rebuilt == live,
        "rebuilt": rebuilt,
        "live": live,
        "switch": f"MONGODB_DB={target.database_name} KAFKA_GROUP_ID={target.group_id}",
    }


async def rebuild_rollups(settings: AnalyticsSettings) -> int:
    """The live database's rollups anew from its facts; returns the number of facts."""
    client = make_client(settings)
    try:
        db = client[settings.database_name]
        basis = RollupBasis(ROLLUP_VERSION, settings.grid_default_cell_deg)
        return await BuildRollups(FactStore(db), RollupStore(db), basis).rebuild()
    finally:
        await client.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m services.analytics.rebuild", description=__doc__
    )
    parser.add_argument("--stamp", help="suffix of the new group and database names")
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds to catch up")
    parser.add_argument(
        "--rollups", action="store_true", help="rebuild the live rollups from the facts instead"
    )
    args = parser.parse_args(argv)
    if args.rollups:
        n = asyncio.run(rebuild_rollups(AnalyticsSettings()))
        json.dump({"facts": n}, sys.stdout)
        sys.stdout.write("\n")
        return 0
    result = asyncio.run(rebuild(AnalyticsSettings(), stamp=args.stamp, timeout_s=args.timeout))
    json.dump(result, sys.stdout, indent=2, ensure_ascii=False, default=str)
    sys.stdout.write("\n")
    return 0 if result["caught_up"] else 1


if __name__ == "__main__":
    sys.exit(main())
