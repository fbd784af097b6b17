"""The live status stream (Server-Sent Events) over a real socket."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from typing import Any

from tests.notify.conftest import STREAM_CAP, Stack
from tests.notify.harness import assigned, created, resolved
from tests.notify.test_delivery_flow import rid
from tests.support import eventually


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


async def known_report(stack: Stack) -> str:
    report = rid()
    await stack.apply(created(report, None))
    return report


async def test_stream_shows_changes_as_they_happen(stack: Stack) -> None:
    report = await known_report(stack)
    async with stack.client.stream("GET", f"/api/v1/reports/{report}/stream") as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        lines = response.aiter_lines()
        first = await read(lines)
        await stack.publish(assigned(report, "roads"))
        second = await read(lines)
        await stack.publish(resolved(report, "roads"))
        third = await read(lines)
    assert (first, second, third) == (
        ("1", "status", "received"),
        ("2", "status", "assigned"),
        ("3", "status", "resolved"),
    )


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
    report = await known_report(stack)
    async with stack.client.stream("GET", f"/api/v1/reports/{report}/stream") as response:

        async def keep_alive() -> str:
            async for line in response.aiter_lines():
                if line.startswith(": keep-alive"):
                    return line
            return ""

        assert await asyncio.wait_for(keep_alive(), timeout=10)


async def test_stream_of_a_report_notify_never_heard_of_is_404(stack: Stack) -> None:
    response = await stack.client.get(f"/api/v1/reports/{rid()}/stream")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


async def open_streams(stack: Stack) -> int:
    text = (await stack.client.get("/metrics")).text
    found = re.search(r"^notifications_sse_streams_open (\S+)$", text, re.MULTILINE)
    assert found is not None
    return int(float(found.group(1)))


async def test_streams_over_the_cap_get_503_with_retry_after_until_one_closes(
    stack: Stack,
) -> None:
    report = await known_report(stack)
    url = f"/api/v1/reports/{report}/stream"
    # Streams of earlier tests end when their clients go; wait for none to be open.
    await eventually(lambda: _none_open(stack), what="no stream open")
    async with AsyncExitStack() as held:
        for _ in range(STREAM_CAP):
            response = await held.enter_async_context(stack.client.stream("GET", url))
            assert response.status_code == 200
        refused = await stack.client.get(url)
        assert refused.status_code == 503
        assert int(refused.headers["Retry-After"]) > 0
        assert refused.json()["error"]["code"] == "too_many_streams"
        assert await open_streams(stack) == STREAM_CAP
    await eventually(lambda: _none_open(stack), what="slots given back")
    async with stack.client.stream("GET", url) as again:
        assert again.status_code == 200


async def _none_open(stack: Stack) -> bool:
    return await open_streams(stack) == 0
