"""One running analytics app per test module, on its own topics and database."""

from __future__ import annotations

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
from tests.conftest import Infra
from tests.support import serving, unique, wait_ready


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
        projector_interval_s=0.1,
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
