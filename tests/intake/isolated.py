"""An intake app of its own (own database and topics; relay and housekeeping on their slow
safety-net intervals; no rate limit unless asked), with the catalogue consumed and the profiler at hand:
for tests that count what intake asks of the database."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
from aiokafka import AIOKafkaProducer
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from pymongo.asynchronous.database import AsyncDatabase

from services.intake.app import build_app
from services.intake.settings import IntakeSettings
from shared.events import CloudEvent
from shared.kafka import all_topics, ensure_topics
from shared.mongo import Document
from shared.outbox import encode
from tests.conftest import Infra
from tests.intake.conftest import catalog_event
from tests.support import eventually, unique, wait_ready

PROBE = "test-probe"  # the comment of the tests' own queries, left out of the counts


@dataclass
class Isolated:
    app: FastAPI
    asgi: Any
    prefix: str
    producer: AIOKafkaProducer

    @property
    def db(self) -> AsyncDatabase[Document]:
        db: AsyncDatabase[Document] = self.app.state.runtime.db
        return db

    def client(self) -> httpx.AsyncClient:
        transport = httpx.ASGITransport(app=self.asgi, client=("10.9.9.9", 40000))
        return httpx.AsyncClient(transport=transport, base_url="http://test")

    async def publish(self, event: CloudEvent) -> None:
        await self.producer.send(
            self.prefix + event.type, encode(event), key=event.subject.encode()
        )

    async def outbox_drained(self) -> bool:
        pending: int = await self.db.outbox.count_documents({"status": "pending"}, comment=PROBE)
        return pending == 0

    async def profiling(self) -> None:
        """Starts recording every operation, from nothing (the outbox drained first)."""
        await eventually(self.outbox_drained, what="outbox drained")
        await self.db.command("profile", 0)
        await self.db["system.profile"].drop()
        await self.db.command("profile", 2)

    async def recorded(self) -> list[Document]:
        """What was recorded since `profiling` (the tests' probes left out); stops recording."""
        entries = [d async for d in self.db["system.profile"].find()]
        await self.db.command("profile", 0)
        return [e for e in entries if (e.get("command") or {}).get("comment") != PROBE]


@asynccontextmanager
async def isolated_intake(infra: Infra, name: str, **overrides: Any) -> AsyncIterator[Isolated]:
    prefix = f"{name}{uuid.uuid4().hex[:8]}."
    await ensure_topics(infra.kafka, all_topics(prefix), partitions=3)
    values: dict[str, Any] = {
        "environment": "test",
        "kafka_bootstrap_servers": infra.kafka,
        "kafka_topic_prefix": prefix,
        "mongodb_uri": infra.mongodb_uri,
        "mongodb_db": unique(name),
        "rate_limit_create_burst": 0,
        "rate_limit_read_burst": 0,
        "rate_limit_act_burst": 0,
        "rate_limit_resident_token_burst": 0,
        "rate_limit_suggest_burst": 0,
        "reconcile_interval_s": 3600,
    }
    settings = IntakeSettings(**{**values, **overrides})
    producer = AIOKafkaProducer(bootstrap_servers=infra.kafka, linger_ms=5)
    await producer.start()
    app = build_app(settings)
    try:
        async with LifespanManager(app, startup_timeout=60, shutdown_timeout=30) as manager:
            run = Isolated(app, manager.app, prefix, producer)
            async with run.client() as client:
                await wait_ready(client)
                await run.publish(catalog_event())
                await producer.flush()

                async def has_catalog() -> bool:  # not through the API: it may be rate limited
                    return await app.state.intake.queries.catalog_copy.current() is not None

                await eventually(has_catalog, timeout=60, what="catalogue consumed")
            yield run
            await run.db.command("profile", 0)
    finally:
        await producer.stop()


def kind(entry: Document) -> str:
    """`<command> <collection>`; the outbox relay's own work (claim, lease, mark) is `relay`."""
    cmd = entry.get("command") or {}
    name = next(iter(cmd), "?")
    col = str(cmd.get(name, "?"))
    return "relay" if col == "outbox" and name != "insert" else f"{name} {col}"
