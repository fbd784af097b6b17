"""How many database operations analytics spends: `python -m tests.analytics.opcount`.

Starts the embedded broker and database (or uses TEST_KAFKA_BOOTSTRAP_SERVERS /
TEST_MONGODB_URI), runs analytics in-process with its default loop intervals, and counts every
command its MongoDB client sends (a pymongo command listener: commits included, heartbeats not)
and what the server's profiler recorded, per phase:

- idle with nothing flowing (ops/s);
- N `report.created` then N `report.assigned` (ops per event, amortised over the batches);
- one lone report (created, then assigned);
- one request to each statistics endpoint;
- with `--history H`: H resolved reports over a year stored (through the service's projection,
  in bulk), then the same again.

Prints JSON. Used before and after changing analytics; `tests/analytics/test_query_plans.py`
guards the query shapes (it does not check these counts).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from pymongo import AsyncMongoClient, monitoring

from services.analytics.app import build_app
from services.analytics.settings import AnalyticsSettings
from shared.events import CloudEvent
from shared.kafka import all_topics, ensure_topics
from shared.outbox import encode
from shared.uow import FakeTransactions
from tests.analytics.factory import Story
from tests.conftest import embedded_servers
from tests.support import serving, wait_ready

ENDPOINTS = ("summary", "scoreboard", "categories", "timeseries", "grid")


class Commands(monitoring.CommandListener):
    """Counts the commands of every client created after it was registered."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        self.counts[event.command_name] += 1

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass

    def total(self) -> int:
        return sum(n for name, n in self.counts.items() if name not in ("endSessions",))


async def _until(probe: Callable[[], Awaitable[bool]], timeout: float = 300) -> float:
    start = time.monotonic()
    while not await probe():
        if time.monotonic() - start > timeout:
            raise TimeoutError("not processed in time")
        await asyncio.sleep(0.05)
    return time.monotonic() - start


class Probe:
    def __init__(self, kafka: str, mongo_uri: str, listener: Commands) -> None:
        self.kafka, self.mongo_uri, self.listener = kafka, mongo_uri, listener
        self.prefix = f"op{uuid.uuid4().hex[:8]}."
        self.db_name = f"opcount_{uuid.uuid4().hex[:8]}"
        # created before the listener is registered: its reads are not counted
        self.observer: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongo_uri)
        self.db = self.observer[self.db_name]

    def settings(self) -> AnalyticsSettings:
        return AnalyticsSettings(
            environment="test",
            kafka_bootstrap_servers=self.kafka,
            kafka_topic_prefix=self.prefix,
            kafka_group_id=f"opcount-{uuid.uuid4().hex[:8]}",
            mongodb_uri=self.mongo_uri,
            mongodb_db=self.db_name,
        )

    async def slowest(self) -> dict[str, Any]:
        """Server time per (operation, collection) in the profiler, in ms."""
        out: Counter[str] = Counter()
        async for d in self.db["system.profile"].find({}, {"op": 1, "ns": 1, "millis": 1}):
            out[f"{d.get('op')} {str(d.get('ns', '')).split('.', 1)[-1]}"] += d.get("millis", 0)
        return dict(out.most_common(12))

    async def profiled(self) -> int:
        return await self.db["system.profile"].count_documents({"ns": {"$ne": None}})

    async def measure(self, what: Callable[[], Awaitable[Any]]) -> dict[str, Any]:
        before_cmd, before_prof = Counter(self.listener.counts), await self.profiled()
        started = time.monotonic()
        await what()
        seconds = time.monotonic() - started
        await asyncio.sleep(0.3)  # let the last writes land
        delta = self.listener.counts - before_cmd
        return {
            "seconds": round(seconds, 2),
            "commands": sum(delta.values()),
            "by_command": dict(delta),
            "profiled": await self.profiled() - before_prof,
        }

    async def facts_with(self, ids: list[str], status: str) -> bool:
        n = await self.db["facts"].count_documents({"_id": {"$in": ids}, "status": status})
        return n == len(ids)

    @staticmethod
    def consumed(app: Any) -> float:
        """Events the service consumed so far (from its metrics: no database read)."""
        return sum(
            float(sample.value)
            for metric in app.state.runtime.metrics.registry.collect()
            if metric.name == "events_consumed"
            for sample in metric.samples
            if sample.name == "events_consumed_total"
        )

    async def publish(self, app: Any, events: list[CloudEvent]) -> None:
        broker = app.state.runtime.broker
        for start in range(0, len(events), 200):  # concurrently: the consumer is measured
            await asyncio.gather(
                *(
                    broker.publish(encode(e), self.prefix + e.type, key=e.subject.encode())
                    for e in events[start : start + 200]
                )
            )

    async def flow(self, app: Any, n: int) -> dict[str, Any]:
        stories = [Story(f"r-{uuid.uuid4().hex[:10]}").created().assigned(5) for _ in range(n)]
        ids = [s.report_id for s in stories]
        out: dict[str, Any] = {}
        for i, status in ((0, "received"), (1, "assigned")):
            events = [s.events[i] for s in stories]

            published: list[float] = []

            async def step(
                events: list[CloudEvent] = events, published: list[float] = published
            ) -> None:
                target = self.consumed(app) + len(events)
                started = time.monotonic()
                await self.publish(app, events)
                published.append(time.monotonic() - started)

                async def done() -> bool:
                    return self.consumed(app) >= target

                await _until(done)

            m = await self.measure(step)
            m["publish_s"] = round(published[0], 2)
            assert await self.facts_with(ids, status), f"not every report is {status}"
            m["per_event"] = round(m["commands"] / n, 2)
            m["events_per_s"] = round(n / m["seconds"], 1)
            out[status] = m
        return out

    async def endpoints(self, client: Any) -> dict[str, Any]:
        """Commands and milliseconds of each endpoint, every day and a 30-day window."""
        out = {}
        for name in ENDPOINTS:
            for label, params in (("all", {}), ("30d", {"from": "2025-02-01", "to": "2025-03-02"})):

                async def get(name: str = name, params: dict[str, str] = params) -> None:
                    r = await client.get(f"/api/v1/stats/{name}", params=params)
                    assert r.status_code == 200, r.text

                m = await self.measure(get)
                out[f"{name} {label}"] = f"{m['commands']} ops, {m['seconds'] * 1000:.0f} ms"
        return out

    async def seed(self, app: Any, n: int) -> float:
        """n resolved reports over a year, stored through the service's own projection (in
        batches of 1,000 events, without the broker)."""
        rng = random.Random(n)
        project = app.state.analytics.project
        events: list[CloudEvent] = []
        for i in range(n):
            day = rng.uniform(-365 * 1440, 0)
            story = Story(
                f"h-{i}-{uuid.uuid4().hex[:6]}",
                rng.choice(["pothole", "flood", "light", "trash"]),
                16.4 + rng.uniform(0, 0.15),
                107.5 + rng.uniform(0, 0.15),
            ).created(day, created_minute=day)
            agency = rng.choice(["dot", "water", "parks", "env"])
            story.assigned(day + 5, agency, due_minute=day + 2880).started(day + 60, agency)
            story.resolved(day + rng.uniform(60, 6000), agency).rated(day + 7000, rng.randint(1, 5))
            events += story.events
        started = time.monotonic()
        for i in range(0, len(events), 1000):
            chunk = [(e.type, e) for e in events[i : i + 1000]]

            async def work(uow: Any, chunk: list[tuple[str, CloudEvent]] = chunk) -> int:
                return int(await project(chunk, uow))

            await FakeTransactions().run(work)
        return time.monotonic() - started


async def run(kafka: str, mongo: str, n: int, idle_s: float, history: int) -> dict[str, Any]:
    listener = Commands()
    probe = Probe(kafka, mongo, listener)
    await ensure_topics(kafka, all_topics(probe.prefix), partitions=3)
    await probe.db.command("profile", 2)
    monitoring.register(listener)
    app = build_app(probe.settings())
    result: dict[str, Any] = {}
    async with serving(app) as client:
        await wait_ready(client)
        await asyncio.sleep(2)  # startup: indexes, the consumer joins its group
        result["idle_ops_per_s"] = round(
            (await probe.measure(lambda: asyncio.sleep(idle_s)))["commands"] / idle_s, 2
        )
        result["burst"] = await probe.flow(app, n)
        result["server_ms"] = await probe.slowest()
        result["lone"] = await probe.flow(app, 1)
        result["endpoints"] = await probe.endpoints(client)
        if history:
            result["history_seeded_s"] = round(await probe.seed(app, history), 1)
            result["history_burst"] = await probe.flow(app, n)
            result["history_endpoints"] = await probe.endpoints(client)
            result["history_idle_ops_per_s"] = round(
                (await probe.measure(lambda: asyncio.sleep(idle_s)))["commands"] / idle_s, 2
            )
    await probe.observer.close()
    return result


async def main_async(args: argparse.Namespace) -> dict[str, Any]:
    workdir = Path(tempfile.mkdtemp(prefix="opcount-"))
    with embedded_servers(workdir) as servers:
        return await run(servers.kafka, servers.mongodb_uri, args.n, args.idle, args.history)


def main() -> None:
    p = argparse.ArgumentParser(prog="python -m tests.analytics.opcount")
    p.add_argument("-n", type=int, default=100, help="reports per burst")
    p.add_argument("--idle", type=float, default=20.0, help="seconds of idle measured")
    p.add_argument("--history", type=int, default=0, help="reports stored before a second run")
    print(json.dumps(asyncio.run(main_async(p.parse_args())), indent=2))


if __name__ == "__main__":
    main()
