"""One running intake app (real embedded broker and database) shared by the intake tests."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaProducer
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from pydantic import BaseModel
from pymongo.asynchronous.database import AsyncDatabase

from services.intake.app import build_app
from services.intake.settings import IntakeSettings
from services.intake.usecases import Intake
from shared.catalog import CATALOG_KEY, CatalogV1, CategoryAttributeV1, CategoryV1
from shared.events import CloudEvent, Topic
from shared.kafka import all_topics, ensure_topics
from shared.mongo import Document
from shared.outbox import encode
from tests.conftest import Infra
from tests.support import eventually, unique, wait_ready

ROUTING = "/fieldreports/routing"

CATALOG = CatalogV1(
    version=3,
    published_at=datetime(2026, 1, 1, tzinfo=UTC),
    categories=[
        CategoryV1(
            code="pothole",
            name={"vi": "Ổ gà", "en": "Pothole"},
            group="roads",
            deadline_hours=72,
        ),
        CategoryV1(
            code="streetlight",
            name={"vi": "Đèn đường hỏng", "en": "Broken street light"},
            group="lighting",
            deadline_hours=48,
            attributes=[
                CategoryAttributeV1(
                    code="pole_id",
                    datatype="string",
                    required=True,
                    description={"vi": "Số cột", "en": "Pole number"},
                    order=1,
                ),
                CategoryAttributeV1(
                    code="issues",
                    datatype="multivaluelist",
                    description={"vi": "Vấn đề", "en": "Issues"},
                    order=2,
                    values=[
                        {"key": "dark", "name": {"vi": "Tắt", "en": "Off"}},
                        {"key": "flicker", "name": {"vi": "Nhấp nháy", "en": "Flickering"}},
                    ],
                ),
            ],
        ),
        CategoryV1(
            code="garbage",
            name={"vi": "Rác", "en": "Garbage"},
            group="sanitation",
            deadline_hours=24,
        ),
    ],
)


@dataclass
class Running:
    app: FastAPI
    asgi: Any  # the app wrapped by its running lifespan
    settings: IntakeSettings
    prefix: str
    kafka: str
    producer: AIOKafkaProducer

    @property
    def intake(self) -> Intake:
        intake: Intake = self.app.state.intake
        return intake

    @property
    def db(self) -> AsyncDatabase[Document]:
        db: AsyncDatabase[Document] = self.app.state.runtime.db
        return db

    async def report_doc(self, report_id: str) -> Document:
        """The stored document of a report (its storage shape, private fields included)."""
        doc = await self.db.reports.find_one({"_id": report_id})
        assert doc is not None, f"report {report_id} not stored"
        return doc

    def client(self, ip: str | None = None) -> httpx.AsyncClient:
        """A client with its own source IP (so each test has its own rate-limit bucket)."""
        ip = ip or f"10.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}"
        transport = httpx.ASGITransport(app=self.asgi, client=(ip, 40000))
        return httpx.AsyncClient(transport=transport, base_url="http://test")

    async def publish(self, event: CloudEvent) -> None:
        await self.producer.send_and_wait(
            self.prefix + event.type, encode(event), key=event.subject.encode()
        )


@pytest.fixture(scope="session")
async def running(infra: Infra) -> AsyncIterator[Running]:
    prefix = f"t{uuid.uuid4().hex[:10]}."
    await ensure_topics(infra.kafka, all_topics(prefix), partitions=3)
    settings = IntakeSettings(
        environment="test",
        kafka_bootstrap_servers=infra.kafka,
        kafka_topic_prefix=prefix,
        mongodb_uri=infra.mongodb_uri,
        mongodb_db=unique("intake"),
        outbox_poll_interval_s=0.2,
        consumer_retry_backoff_s=0.05,
        rate_limit_create_burst=5,
        rate_limit_create_per_minute=1,
        reconcile_interval_s=3600,
    )
    producer = AIOKafkaProducer(bootstrap_servers=infra.kafka)
    await producer.start()
    app = build_app(settings)
    async with LifespanManager(app, startup_timeout=60, shutdown_timeout=30) as manager:
        run = Running(app, manager.app, settings, prefix, infra.kafka, producer)
        async with run.client() as client:
            await wait_ready(client)
            await run.publish(catalog_event())

            async def has_catalog() -> bool:
                return (await client.get("/api/v1/categories")).status_code == 200

            await eventually(has_catalog, timeout=60, what="catalogue consumed")
        yield run
    await producer.stop()


def catalog_event(catalog: CatalogV1 = CATALOG) -> CloudEvent:
    """`catalog` as routing publishes it on `jurisdiction.catalog`."""
    return CloudEvent(
        source=ROUTING,
        type=Topic.JURISDICTION_CATALOG,
        subject=CATALOG_KEY,
        sequence=catalog.version,
        data=catalog.model_dump(mode="json"),
    )


def report_body(**over: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "category": "pothole",
        "lat": 16.4637,
        "lon": 107.5909,
        "description": "Ổ gà lớn trước số 12",
        "contact": {"name": "Trần Thị B", "email": "b@example.org", "phone": "+84 90 123 4567"},
    }
    body.update(over)
    return body


def lifecycle(report_id: str, topic: Topic, sequence: int, payload: BaseModel) -> CloudEvent:
    """A routing event with the real envelope and payload model."""
    return CloudEvent(
        source=ROUTING,
        type=topic,
        subject=report_id,
        sequence=sequence,
        dataschema=f"{topic}/v1",
        data=payload.model_dump(mode="json"),
    )
