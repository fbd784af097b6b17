"""The live status stream of one report (Server-Sent Events)."""

import json
from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import aclosing
from typing import Annotated, Any

from fastapi import APIRouter, Header, Path, Request
from fastapi.responses import Response, StreamingResponse
from starlette.types import Receive, Scope, Send

from services.notify.api.deps import StatusStreamDep
from services.notify.domain.model import StatusChange
from services.notify.stream import StreamSlot

router = APIRouter(tags=["stream"])


class _SlotStreamingResponse(StreamingResponse):
    """Gives the stream's slot back however the response ends (even if never iterated)."""

    def __init__(self, content: AsyncIterator[str], slot: StreamSlot, **kwargs: Any) -> None:
        super().__init__(content, **kwargs)
        self._slot = slot

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            self._slot.release()


def _event(report_id: str, change: StatusChange) -> str:
    data = {
        "report_id": report_id,
        "status": change.status.value,
        "time": change.time.isoformat(),
        "agency": change.agency_id,
    }
    return f"id: {change.n}\nevent: status\ndata: {json.dumps(data)}\n\n"


async def _sse(
    report_id: str, changes: AsyncGenerator[StatusChange | None, None]
) -> AsyncIterator[str]:
    yield "retry: 3000\n\n"
    async with aclosing(changes):  # closing the response stops the watch at once
        async for change in changes:
            yield ": keep-alive\n\n" if change is None else _event(report_id, change)


@router.get(
    "/reports/{report_id}/stream",
    response_class=StreamingResponse,
    responses={
        200: {"content": {"text/event-stream": {}}},
        404: {"description": "No event of this report has reached notify"},
        429: {"description": "This client holds its maximum of open streams; see Retry-After"},
        503: {"description": "This process holds its maximum of open streams; see Retry-After"},
    },
)
async def status_stream(
    report_id: Annotated[str, Path(max_length=100)],
    request: Request,
    stream: StatusStreamDep,
    last_event_id: Annotated[str | None, Header(alias="Last-Event-ID")] = None,
) -> Response:
    """Server-Sent Events: each status change of the report (`event: status`, `id:` its
    number in the report's history), resuming after `Last-Event-ID`; keep-alive comments.
    The stream ends after `SSE_MAX_LIFETIME_S` (the browser reconnects with `Last-Event-ID`).
    404 for a report notify has never heard of; 429 with `Retry-After` when this client
    already holds `SSE_MAX_STREAMS_PER_CLIENT` open streams, 503 when this process holds
    `SSE_MAX_STREAMS`."""
    # The address as uvicorn gives it: the peer, or X-Forwarded-For from TRUSTED_PROXIES only.
    slot = await stream.open(report_id, request.client.host if request.client else "")
    after = int(last_event_id) if last_event_id and last_event_id.isdigit() else 0
    changes = stream.changes(report_id, after, slot, request.is_disconnected)
    return _SlotStreamingResponse(
        _sse(report_id, changes),
        slot,
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
