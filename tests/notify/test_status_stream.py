"""The live status stream (Server-Sent Events) over a real socket."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

from tests.notify.conftest import Stack
from tests.notify.harness import assigned, resolved
from tests.notify.test_delivery_flow import rid


async def next_event(lines: AsyncIterator[str]) -> dict[str, Any]:
    """Reads lines up to the next SSE event that has data; skips retry and keep-alives."""
    fields: dict[str, Any] = {}
    async for line in lines:
        if line == "":
            if "data" in fields:
                return fields
            fields = {}
        elif not line.startswith(":"):
            name, _, value = line.partition(":")
            fields[name] = value.strip()
    raise AssertionError("stream ended")


async def read(lines: AsyncIterator[str]) -> tuple[str, str, str]:
    fields = await asyncio.wait_for(next_event(lines), timeout=30)
    return fields["id"], fields["event"], json.loads(fields["data"])["status"]


async def test_stream_shows_assigned_then_resolved_as_they_happen(stack: Stack) -> None:
    report = rid()
    async with stack.client.stream("GET", f"/api/v1/reports/{report}/stream") as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        lines = response.aiter_lines()
        await stack.publish(assigned(report, "roads"))
        first = await read(lines)
        await stack.publish(resolved(report, "roads"))
        second = await read(lines)
    assert (first, second) == (("1", "status", "assigned"), ("2", "status", "resolved"))


async def test_stream_resumes_after_last_event_id(stack: Stack) -> None:
    report = rid()
    await stack.apply(assigned(report, "roads"))
    await stack.apply(resolved(report, "roads"))
    await stack.apply(assigned(report, "roads", seq=3, attempt=2))
    headers = {"Last-Event-ID": "1"}
    url = f"/api/v1/reports/{report}/stream"
    async with stack.client.stream("GET", url, headers=headers) as response:
        lines = response.aiter_lines()
        got = [await read(lines), await read(lines)]
    assert [status for _, _, status in got] == ["resolved", "assigned"]


async def test_stream_sends_keep_alive_comments(stack: Stack) -> None:
    async with stack.client.stream("GET", f"/api/v1/reports/{rid()}/stream") as response:

        async def keep_alive() -> str:
            async for line in response.aiter_lines():
                if line.startswith(": keep-alive"):
                    return line
            return ""

        assert await asyncio.wait_for(keep_alive(), timeout=10)
