"""Session-wide real servers: the embedded Kafka-compatible broker and MongoDB-compatible server,
started once on free ports (or taken from TEST_KAFKA_BOOTSTRAP_SERVERS / TEST_MONGODB_URI)."""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from devstack.servers import free_port, start_kafka, start_mongo, stop
from shared.kafka import all_topics, ensure_topics


@dataclass(frozen=True)
class Infra:
    kafka: str
    mongodb_uri: str


@contextlib.contextmanager
def embedded_servers(workdir: Path) -> Iterator[Infra]:
    """The broker and database from TEST_KAFKA_BOOTSTRAP_SERVERS / TEST_MONGODB_URI, or the
    embedded ones started on free ports in `workdir` (stopped on exit)."""
    procs = []
    kafka = os.environ.get("TEST_KAFKA_BOOTSTRAP_SERVERS")
    mongo = os.environ.get("TEST_MONGODB_URI")
    try:
        if not kafka:
            port = free_port()
            procs.append(start_kafka(port, workdir))
            kafka = f"127.0.0.1:{port}"
        if not mongo:
            port = free_port()
            procs.append(start_mongo(port, workdir))
            mongo = f"mongodb://127.0.0.1:{port}/?directConnection=true"
        yield Infra(kafka, mongo)
    finally:
        for proc in procs:
            stop(proc)


@pytest.fixture(scope="session")
def infra(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Infra]:
    with embedded_servers(Path(tmp_path_factory.mktemp("infra"))) as servers:
        yield servers


@pytest.fixture
async def topic_prefix(infra: Infra) -> str:
    """A fresh set of topics per test, so tests never see each other's events."""
    prefix = f"t{uuid.uuid4().hex[:10]}."
    await ensure_topics(infra.kafka, all_topics(prefix), partitions=3)
    return prefix


@pytest.fixture
def env(infra: Infra, topic_prefix: str) -> dict[str, str]:
    """Settings overrides pointing a service at the test servers, with its own database."""
    return {
        "environment": "test",
        "kafka_bootstrap_servers": infra.kafka,
        "kafka_topic_prefix": topic_prefix,
        "mongodb_uri": infra.mongodb_uri,
        "outbox_poll_interval_s": "0.2",
        "consumer_retry_backoff_s": "0.05",
    }


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "infra" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.integration)
