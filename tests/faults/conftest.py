"""Fault tests: real service processes over TCP, on the session's servers or on their own."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from pymongo import AsyncMongoClient

from tests.conftest import Infra
from tests.faults.harness import Document, Launcher, OwnServer


@pytest.fixture
def launcher(infra: Infra, topic_prefix: str, tmp_path: Path) -> Iterator[Launcher]:
    """Service processes on the session's broker and database, fresh topics; all stopped after."""
    launch = Launcher(tmp_path, infra.kafka, infra.mongodb_uri, topic_prefix)
    try:
        yield launch
    finally:
        launch.stop_all()


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=10) as client:
        yield client


@pytest.fixture
async def mongo(infra: Infra) -> AsyncIterator[AsyncMongoClient[Document]]:
    client: AsyncMongoClient[Document] = AsyncMongoClient(infra.mongodb_uri, tz_aware=True)
    try:
        yield client
    finally:
        await client.close()


@pytest.fixture
def own_kafka(tmp_path: Path) -> Iterator[OwnServer]:
    """A Tansu broker of this test's own (stopped and restarted by it), not the session one."""
    server = OwnServer("kafka", tmp_path / "own-kafka")
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def own_mongo(tmp_path: Path) -> Iterator[OwnServer]:
    """A SecantusDB of this test's own (stopped and restarted on the same data dir)."""
    server = OwnServer("mongo", tmp_path / "own-mongo")
    server.start()
    try:
        yield server
    finally:
        server.stop()
