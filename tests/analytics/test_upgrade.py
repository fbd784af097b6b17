"""Starting on a database of an earlier version (one document per event, dirty marks): its
events move into the facts, the rollups are built, and statistics count every report; and
rollups built with another grid cell are rebuilt."""

from __future__ import annotations

import uuid
from typing import Any

from pymongo import AsyncMongoClient
from pymongo.errors import AutoReconnect

from services.analytics.app import build_app
from services.analytics.domain.facts import kept
from services.analytics.rebuild import rebuild_rollups
from shared.kafka import all_topics, ensure_topics
from tests.analytics.conftest import Running, analytics_settings
from tests.analytics.factory import EXPECTED_STATUS, full_story, stories
from tests.conftest import Infra
from tests.support import eventually, serving, unique, wait_ready


def legacy_documents() -> list[dict[str, Any]]:
    return [
        {
            "_id": e.id,
            "report": e.subject,
            "topic": e.type,
            "source": e.source,
            "sequence": e.sequence,
            "time": e.time,
            "data": kept(e.data),
        }
        for s in stories()
        for e in s.events
    ]


async def _summary(client: Any) -> Any:
    response = await client.get("/api/v1/stats/summary")
    return response.json() if response.status_code == 200 else None


async def test_an_earlier_event_log_becomes_facts_and_rollups(infra: Infra) -> None:
    name = unique("analytics_legacy_")
    mongo: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(infra.mongodb_uri)
    db = mongo[name]
    await db["events"].insert_many(legacy_documents())
    await db["dirty"].insert_one({"_id": "r4", "token": "x"})
    prefix = f"t{uuid.uuid4().hex[:10]}."
    await ensure_topics(infra.kafka, all_topics(prefix), partitions=1)
    app = build_app(analytics_settings(infra, prefix, name))
    async with serving(app) as client:
        await wait_ready(client)

        async def all_counted() -> Any:
            summary = await _summary(client)
            return summary if summary and summary["total"] == 5 else None

        summary = await eventually(all_counted, timeout=30, what="legacy reports counted")
    assert summary["by_status"] == EXPECTED_STATUS
    assert not {"events", "dirty"} & set(await db.list_collection_names())
    fact = await db["facts"].find_one({"_id": "r1"})
    assert fact is not None
    assert (fact["status"], len(fact["events"])) == ("closed", 6)
    await mongo.close()


async def test_the_rollups_can_be_rebuilt_in_place_from_the_facts(infra: Infra) -> None:
    name = unique("analytics_rebuilt_")
    mongo: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(infra.mongodb_uri)
    db = mongo[name]
    await db["events"].insert_many(legacy_documents())
    prefix = f"t{uuid.uuid4().hex[:10]}."
    await ensure_topics(infra.kafka, all_topics(prefix), partitions=1)
    settings = analytics_settings(infra, prefix, name)
    app = build_app(settings)
    async with serving(app) as client:
        await wait_ready(client)
        await eventually(lambda: _summary(client), timeout=30, what="ready")
        before = await db["rollups"].find({}, {"_id": 1, "n": 1}).sort("_id").to_list()
        await db["rollups"].update_many({"kind": "all"}, {"$set": {"n": 0}})  # broken
        assert await rebuild_rollups(settings) == 5
        after = await db["rollups"].find({}, {"_id": 1, "n": 1}).sort("_id").to_list()
    assert after == before
    await mongo.close()


def _sample(app: Any, name: str) -> float:
    return sum(
        float(s.value)
        for metric in app.state.runtime.metrics.registry.collect()
        for s in metric.samples
        if s.name == name
    )


async def test_events_arriving_while_the_rollups_are_built_wait_and_are_not_dead_lettered(
    infra: Infra,
) -> None:
    prefix = f"t{uuid.uuid4().hex[:10]}."
    await ensure_topics(infra.kafka, all_topics(prefix), partitions=1)
    app = build_app(analytics_settings(infra, prefix, unique("analytics_gate_")))
    project, building = app.state.analytics.project, [True]
    opened = project.ready

    def ready() -> None:
        if building[0]:
            raise AutoReconnect("still building")
        opened()

    project.ready = ready
    async with serving(app) as client:
        await wait_ready(client)
        running = Running(app.state.runtime.settings, client, app.state.runtime)
        await running.publish(*full_story("r1").events)

        async def tried() -> bool:
            return _sample(app, "events_failed_total") > 0

        await eventually(tried, timeout=30, what="a batch left for later")
        building[0] = False
        summary = await eventually(lambda: _summary(client), timeout=30, what="the summary")

        async def counted() -> Any:
            s = await _summary(client)
            return s if s and s["total"] == 1 else None

        summary = await eventually(counted, timeout=30, what="the report counted")
    assert summary["by_status"] == {"closed": 1}
    assert _sample(app, "events_dead_lettered_total") == 0
