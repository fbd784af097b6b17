"""Faults: a service starts while Kafka is down, keeps its events, and publishes them once it is up."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer

from devstack.servers import free_port, start_kafka, stop
from shared.events import ReportSupportedV1, Topic, utcnow
from shared.kafka import all_topics, ensure_topics
from shared.runtime import Runtime
from shared.settings import ServiceSettings
from tests.conftest import Infra
from tests.support import eventually, unique


@pytest.fixture
def late_kafka(tmp_path: Path) -> Iterator[tuple[int, list[object]]]:
    """A port for a broker that is started later, by the test."""
    procs: list[object] = []
    yield free_port(), procs
    for proc in procs:
        stop(proc)  # type: ignore[arg-type]


async def test_events_written_while_kafka_is_down_are_published_when_it_comes_up(
    infra: Infra, late_kafka: tuple[int, list[object]], tmp_path: Path
) -> None:
    port, procs = late_kafka
    settings = ServiceSettings(
        service_name=unique("late"),
        kafka_bootstrap_servers=f"127.0.0.1:{port}",
        mongodb_uri=infra.mongodb_uri,
        outbox_poll_interval_s=0.2,
        environment="test",
    )
    rt = Runtime(settings, {})
    await rt.start()
    try:
        await eventually(lambda: _db_ready(rt), what="database ready")
        assert (await rt.readiness())["kafka"] is False
        data = ReportSupportedV1(report_id="r1", supporters=1, at=utcnow())
        event = await rt.outbox.add(None, Topic.REPORT_SUPPORTED, "r1", data)
        await eventually(lambda: _backlog_shown(rt, 1), what="backlog gauge while kafka is down")

        procs.append(start_kafka(port, tmp_path))
        await ensure_topics(f"127.0.0.1:{port}", all_topics())

        async def sent() -> bool:
            doc = await rt.db.outbox.find_one({"_id": event.id})
            return bool(doc and doc["status"] == "sent")

        await eventually(sent, timeout=60, what="pending event published after broker start")
        assert (await rt.readiness())["kafka"] is True
        assert await _ids_on_topic(f"127.0.0.1:{port}", Topic.REPORT_SUPPORTED) == [event.id]
        await eventually(lambda: _backlog_shown(rt, 0), what="backlog gauge back to zero")
    finally:
        await rt.stop()


async def _backlog_shown(rt: Runtime, pending: int) -> bool:
    return rt.metrics.registry.get_sample_value("outbox_pending_events") == pending


async def _db_ready(rt: Runtime) -> bool:
    return rt.db_ready.is_set()


async def _ids_on_topic(bootstrap: str, topic: str) -> list[str]:
    """The event ids the broker holds on `topic` (read from the start)."""
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest")
    await consumer.start()
    try:
        got: list[str] = []

        async def some() -> list[str]:
            batch = await consumer.getmany(timeout_ms=500)
            got.extend(json.loads(m.value)["id"] for msgs in batch.values() for m in msgs)
            return got

        return await eventually(some, what="event on the topic")
    finally:
        await consumer.stop()
