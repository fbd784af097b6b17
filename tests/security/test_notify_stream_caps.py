"""Finding 7: one client cannot hold every live status stream of a process (a per-address cap,
429 with Retry-After), and no stream lives for ever (the browser reconnects)."""

from __future__ import annotations

import asyncio
import time
from dataclasses import replace

import pytest
from fastapi.testclient import TestClient

from services.notify.app import build_app
from services.notify.domain.errors import TooManyClientStreams
from services.notify.domain.model import ReportView
from services.notify.settings import NotifySettings
from services.notify.stream import StatusHub, StreamLimit
from services.notify.usecases.stream import StatusStream, StreamConfig
from tests.notify.fakes import FakeReports

PER_CLIENT = 2


def status_stream(lifetime_s: float = 60.0) -> StatusStream:
    reports = FakeReports()
    reports.views["r1"] = ReportView("r1", stored=True)
    limit = StreamLimit(max_streams=10, max_per_client=PER_CLIENT)
    config = StreamConfig(keepalive_s=5, max_lifetime_s=lifetime_s, client_retry_after_s=30)
    hub = StatusHub(reports, interval_s=1)
    return StatusStream(reports, hub, limit, config, asyncio.Event())


async def _connected() -> bool:
    return False


async def test_a_client_over_its_cap_is_refused_with_retry_after() -> None:
    stream = status_stream()
    for _ in range(PER_CLIENT):
        await stream.open("r1", "198.51.100.7")
    with pytest.raises(TooManyClientStreams) as refused:
        await stream.open("r1", "198.51.100.7")
    assert refused.value.retry_after_s == 30


async def test_other_clients_still_get_streams_when_one_is_at_its_cap() -> None:
    stream = status_stream()
    for _ in range(PER_CLIENT):
        await stream.open("r1", "198.51.100.7")
    assert await stream.open("r1", "203.0.113.9") is not None


async def test_a_client_gets_a_stream_again_once_one_of_its_own_ends() -> None:
    stream = status_stream()
    slots = [await stream.open("r1", "198.51.100.7") for _ in range(PER_CLIENT)]
    slots[0].release()
    assert await stream.open("r1", "198.51.100.7") is not None


async def test_a_stream_ends_after_its_lifetime_and_gives_its_slot_back() -> None:
    stream = status_stream(lifetime_s=0.3)
    started = time.monotonic()
    slot = await stream.open("r1", "198.51.100.7")
    async with asyncio.timeout(5):
        async for _ in stream.changes("r1", 0, slot, _connected):
            pass
    assert time.monotonic() - started < 2
    assert stream.limit.open == 0


def test_the_route_answers_429_with_retry_after_in_the_common_shape() -> None:
    app = build_app(NotifySettings(sse_max_streams_per_client=PER_CLIENT))
    stream = status_stream()
    app.state.notify = replace(app.state.notify, stream=stream)
    for _ in range(PER_CLIENT):  # TestClient's requests come from the address "testclient"
        stream.limit.acquire("testclient")
    answer = TestClient(app).get("/api/v1/reports/r1/stream")
    assert answer.status_code == 429
    assert int(answer.headers["Retry-After"]) == 30
    assert answer.json()["error"]["code"] == "too_many_streams_per_client"
