"""One running routing app per test module, on the session's real broker and database."""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaConsumer
from fastapi import FastAPI
from pymongo.asynchronous.database import AsyncDatabase

from services.routing.api.deps import RoutingApi
from services.routing.app import build_app
from services.routing.settings import RoutingSettings
from shared.events import CloudEvent, GeoPoint, ReportCreatedV1, Topic, utcnow
from shared.kafka import all_topics, ensure_topics
from shared.mongo import Document
from shared.outbox import encode
from tests.conftest import Infra
from tests.support import eventually, serving, unique, wait_ready

PHU_HOI = GeoPoint(lat=16.459, lon=107.599)  # inside the demo Phú Hội ward
VINH_NINH = GeoPoint(lat=16.4637, lon=107.5859)  # inside the demo Vĩnh Ninh ward
HANOI = GeoPoint(lat=21.0285, lon=105.8542)  # outside every demo area


@dataclass
class Events:
    """Everything routing published, read back from Kafka."""

    seen: list[CloudEvent] = field(default_factory=list)

    def of(self, topic: str, subject: str) -> list[CloudEvent]:
        return [e for e in self.seen if e.type == topic and e.subject == subject]

    async def wait(self, topic: str, subject: str, count: int = 1) -> list[CloudEvent]:
        async def probe() -> list[CloudEvent]:
            found = self.of(topic, subject)
            return found if len(found) >= count else []

        return await eventually(probe, what=f"{count} x {topic} for {subject}")


@dataclass
class Routing:
    app: FastAPI
    client: httpx.AsyncClient
    settings: RoutingSettings
    events: Events

    @property
    def api(self) -> RoutingApi:
        """The wired use cases (`app.state.routing`)."""
        api: RoutingApi = self.app.state.routing
        return api

    @property
    def db(self) -> AsyncDatabase[Document]:
        db: AsyncDatabase[Document] = self.app.state.runtime.db
        return db

    async def outbox(self, topic: str, subject: str) -> list[dict[str, Any]]:
        """Routing's outbox entries of `topic` for `subject` (pending or sent), in order."""
        found = self.db["outbox"].find({"type": topic, "subject": subject}).sort("ts", 1)
        return [d async for d in found]

    async def drained(self) -> None:
        """Waits until the relay has published every outbox entry."""

        async def empty() -> bool:
            return await self.db["outbox"].count_documents({"status": "pending"}) == 0

        await eventually(empty, what="outbox drained")

    async def publish_created(
        self, category: str, point: GeoPoint, report_id: str | None = None, **kw: Any
    ) -> CloudEvent:
        report_id = report_id or unique("r-")
        data = ReportCreatedV1(
            report_id=report_id,
            category=category,
            location=point,
            description="test",
            created_at=utcnow(),
            contact_sealed="sealed-blob-never-stored",
        )
        event = CloudEvent(
            source="/fieldreports/intake",
            type=Topic.REPORT_CREATED,
            subject=report_id,
            sequence=kw.get("sequence", 1),
            data=data.model_dump(mode="json"),
        )
        if kw.get("send", True):
            await self.send(event, key=kw.get("key"))
        return event

    async def send(self, event: CloudEvent, key: str | None = None) -> None:
        """Publishes to Kafka keyed by the subject (or `key`: the same key, the same partition,
        so a later event there is processed after this one)."""
        topic = self.settings.topic(event.type)
        await self.app.state.runtime.broker.publish(
            encode(event), topic, key=(key or event.subject).encode()
        )

    def metric(self, name: str, **labels: str) -> float:
        registry = self.app.state.runtime.metrics.registry
        return float(registry.get_sample_value(name, labels) or 0.0)

    async def assignment(self, report_id: str) -> dict[str, Any]:
        """Waits until routing has assigned the report; returns it as an operator sees it."""
        token = await self.token("operator")

        async def probe() -> dict[str, Any] | None:
            r = await self.client.get(
                "/api/v1/assignments", params={"report_id": report_id}, headers=bearer(token)
            )
            assert r.status_code == 200, r.text
            items = r.json()["items"]
            return items[0] if items else None

        return await eventually(probe, what=f"assignment of {report_id}")

    async def token(self, username: str, password: str = "demo") -> str:
        r = await self.client.post(
            "/api/v1/auth/token", data={"username": username, "password": password}
        )
        assert r.status_code == 200, r.text
        return str(r.json()["access_token"])

    async def auth(self, username: str) -> dict[str, str]:
        return bearer(await self.token(username))


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def _collect(consumer: AIOKafkaConsumer, events: Events) -> None:
    async for msg in consumer:
        with contextlib.suppress(Exception):
            events.seen.append(CloudEvent.model_validate(json.loads(msg.value)))


@contextlib.asynccontextmanager
async def running(infra: Infra, **overrides: Any) -> AsyncIterator[Routing]:
    """A routing app on fresh topics and a fresh database, seeded, with a reader of what it
    publishes; `overrides` are settings (tests run the deadline check themselves)."""
    prefix = f"t{uuid.uuid4().hex[:10]}."
    await ensure_topics(infra.kafka, all_topics(prefix), partitions=3)
    options: dict[str, Any] = {
        "outbox_poll_interval_s": 0.2,
        "consumer_retry_backoff_s": 0.05,
        "deadline_check_interval_s": 3600,
        **overrides,
    }
    settings = RoutingSettings(
        environment="test",
        kafka_bootstrap_servers=infra.kafka,
        kafka_topic_prefix=prefix,
        mongodb_uri=infra.mongodb_uri,
        mongodb_db=unique("routing_"),
        **options,
    )
    produced = [prefix + t for t in (*(t for t in Topic if t != Topic.REPORT_CREATED),)]
    consumer = AIOKafkaConsumer(
        *produced,
        bootstrap_servers=infra.kafka,
        group_id=None,
        auto_offset_reset="earliest",
    )
    await consumer.start()
    events = Events()
    reader = asyncio.create_task(_collect(consumer, events))
    app = build_app(settings)
    try:
        async with serving(app) as client:
            await wait_ready(client)
            api: RoutingApi = app.state.routing

            async def started() -> bool:
                """The jurisdiction is stored and the demo logins made (they come after)."""
                login = {"username": "operator", "password": "demo"}
                r = await client.post("/api/v1/auth/token", data=login)
                return api.admin.jurisdictions.seeded.is_set() and r.status_code == 200

            await eventually(started, what="jurisdiction seeded and demo logins made")
            yield Routing(app, client, settings, events)
    finally:
        reader.cancel()
        await consumer.stop()


@pytest.fixture(scope="module")
async def routing(infra: Infra) -> AsyncIterator[Routing]:
    async with running(infra) as routing:
        yield routing
