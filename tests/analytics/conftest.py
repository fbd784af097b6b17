"""One running analytics app per test module, on its own topics and database."""

from __future__ import annotations

import random
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest

from services.analytics.app import build_app
from services.analytics.settings import AnalyticsSettings
from shared.events import CloudEvent
from shared.kafka import all_topics, ensure_topics
from shared.outbox import encode
from shared.runtime import Runtime
from tests.analytics.factory import catalog_event, stories
from tests.conftest import Infra
from tests.support import eventually, serving, unique, wait_ready


@dataclass
class Running:
    settings: AnalyticsSettings
    client: httpx.AsyncClient
    runtime: Runtime

    async def publish(self, *events: CloudEvent) -> None:
        for event in events:
            topic = self.settings.topic(event.type)
            await self.runtime.broker.publish(encode(event), topic, key=event.subject.encode())


def analytics_settings(infra: Infra, prefix: str, db: str) -> AnalyticsSettings:
    return AnalyticsSettings(
        environment="test",
        kafka_bootstrap_servers=infra.kafka,
        kafka_topic_prefix=prefix,
        kafka_group_id=unique("analytics-"),
        mongodb_uri=infra.mongodb_uri,
        mongodb_db=db,
        consumer_retry_backoff_s=0.05,
        gauges_interval_s=0.5,
    )


@pytest.fixture(scope="module")
async def running(infra: Infra) -> AsyncIterator[Running]:
    prefix = f"t{uuid.uuid4().hex[:10]}."
    await ensure_topics(infra.kafka, all_topics(prefix), partitions=3)
    settings = analytics_settings(infra, prefix, unique("analytics_"))
    app = build_app(settings)
    async with serving(app) as client:
        await wait_ready(client)
        yield Running(settings, client, app.state.runtime)


def consumed(running: Running) -> float:
    """Events the service consumed (first time or duplicate) so far."""
    return sum(
        sample.value
        for metric in running.runtime.metrics.registry.collect()
        if metric.name == "events_consumed"
        for sample in metric.samples
        if sample.name == "events_consumed_total"
    )


async def load(running: Running) -> None:
    """All the stories' events, shuffled across topics and reports, each report's events
    partly twice, and two catalogues (the newer first); returns once all are consumed (each
    batch is projected as it is consumed)."""
    events = [e for s in stories() for e in s.events]
    events += random.Random(3).sample(events, 8)
    random.Random(5).shuffle(events)
    before = consumed(running)
    await running.publish(catalog_event(2, "Department of Transport"), *events)
    await running.publish(catalog_event(1, "Old name"))
    published = len(events) + 2

    async def projected() -> bool:
        return consumed(running) >= before + published

    await eventually(projected, timeout=60, what="all events projected")
