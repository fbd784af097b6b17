"""Test helpers: polling with a deadline, running an app in-process over its real lifespan, an
event as the consumer polls it."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import TypeVar

import httpx
from asgi_lifespan import LifespanManager
from fastapi import FastAPI

from shared.batch import Incoming
from shared.events import CloudEvent

T = TypeVar("T")


async def eventually(
    probe: Callable[[], Awaitable[T | None]],
    *,
    timeout: float = 30.0,
    interval: float = 0.1,
    what: str = "condition",
) -> T:
    """Polls `probe` until it returns something truthy; fails after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    last: T | None = None
    while time.monotonic() < deadline:
        last = await probe()
        if last:
            return last
        await asyncio.sleep(interval)
    raise AssertionError(f"{what} not reached within {timeout}s (last: {last!r})")


def unique(prefix: str = "") -> str:
    return f"{prefix}{uuid.uuid4().hex[:12]}"


@asynccontextmanager
async def serving(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """Runs the app's lifespan (real Kafka and MongoDB connections) and an HTTP client to it."""
    async with LifespanManager(app, startup_timeout=60, shutdown_timeout=30) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            yield client


async def wait_ready(client: httpx.AsyncClient, timeout: float = 60.0) -> None:
    async def ready() -> bool:
        return (await client.get("/health/ready")).status_code == 200

    await eventually(ready, timeout=timeout, what="service ready")


def polled(event: CloudEvent) -> Incoming:
    """An event as the consumer hands it to a batch handler."""
    return Incoming(event.type, event, {}, None, b"")
