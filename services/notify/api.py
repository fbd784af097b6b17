"""HTTP: the delivery log for operators, channel status, unsubscribe, and the live status stream."""

import asyncio
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Header, Path, Query, Request, Security
from fastapi.responses import HTMLResponse, JSONResponse, Response, StreamingResponse
from pydantic import BaseModel, Field
from starlette.types import Receive, Scope, Send

from services.notify.domain.delivery import UnsubscribeTokens
from services.notify.domain.model import Channel, DeliveryStatus, RecipientKind
from services.notify.store import NotifyStore
from services.notify.stream import StatusHub, StreamLimit, StreamSlot
from shared.auth import Principal
from shared.events import utcnow
from shared.http import ApiError, error_body
from shared.mongo import Document


class NotificationOut(BaseModel):
    """One delivery as operators see it: the recipient is masked, never the whole address."""

    id: str
    event_id: str
    event_type: str
    report_id: str
    recipient_kind: RecipientKind
    recipient_id: str = Field(description="`resident`, or the agency id")
    recipient: str = Field(description="Masked address, e.g. `n***@example.org`")
    channel: Channel
    language: str
    status: DeliveryStatus
    attempts: int
    last_error: str | None = None
    next_attempt_at: datetime | None = None
    created_at: datetime
    sent_at: datetime | None = None

    @classmethod
    def of(cls, doc: Document) -> "NotificationOut":
        retrying = doc["status"] in (DeliveryStatus.PENDING, DeliveryStatus.FAILED)
        return cls(
            id=doc["_id"],
            event_id=doc["event_id"],
            event_type=doc["event_type"],
            report_id=doc["report_id"],
            recipient_kind=doc["recipient_kind"],
            recipient_id=doc["recipient_id"],
            recipient=doc["recipient"],
            channel=doc["channel"],
            language=doc["language"],
            status=doc["status"],
            attempts=doc.get("attempts", 0),
            last_error=doc.get("last_error"),
            next_attempt_at=doc.get("next_attempt_at") if retrying else None,
            created_at=doc["created_at"],
            sent_at=doc.get("sent_at"),
        )


class NotificationPage(BaseModel):
    items: list[NotificationOut]
    next_offset: int | None = Field(default=None, description="Pass as `offset` for more")


class ChannelOut(BaseModel):
    channel: Channel
    enabled: bool
    detail: str | None = None


_UNSUBSCRIBED = {
    Channel.EMAIL: "Bạn sẽ không nhận thêm thư nào. / You will receive no more emails.",
    Channel.SMS: "Bạn sẽ không nhận thêm tin nhắn SMS nào. / You will receive no more SMS.",
}


@dataclass(frozen=True)
class StreamConfig:
    keepalive_s: float
    retry_after_s: int = 5  # told to clients refused because the process is at its cap


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


def _sse(change: Document) -> str:
    data = {
        "report_id": change["report_id"],
        "status": change["status"],
        "time": change["time"].isoformat(),
        "agency": change.get("agency_id"),
    }
    return f"id: {change['n']}\nevent: status\ndata: {json.dumps(data)}\n\n"


def build_router(
    store: NotifyStore,
    tokens: UnsubscribeTokens,
    auth: Callable[..., Awaitable[Principal]],
    channels: dict[Channel, str | None],
    stream: StreamConfig,
    hub: StatusHub,
    stopping: asyncio.Event,
    limit: StreamLimit,
) -> APIRouter:
    """`channels` maps each channel to None when enabled, or to why it is disabled."""
    router = APIRouter(prefix="/api/v1")
    Operator = Annotated[Principal, Security(auth, scopes=["operator", "admin"])]

    @router.get("/notifications", tags=["notifications"], response_model=NotificationPage)
    async def notifications(
        _: Operator,
        report_id: str | None = None,
        channel: Channel | None = None,
        status: DeliveryStatus | None = None,
        recipient_kind: RecipientKind | None = None,
        limit: Annotated[int, Query(ge=1, le=100)] = 50,
        offset: Annotated[int, Query(ge=0, le=100_000)] = 0,
    ) -> NotificationPage:
        """The delivery log (oldest first), filtered; operators and admins only."""
        filters: dict[str, Any] = {}
        for name, value in (
            ("report_id", report_id),
            ("channel", channel),
            ("status", status),
            ("recipient_kind", recipient_kind),
        ):
            if value is not None:
                filters[name] = str(value)
        docs = await store.list_deliveries(filters, limit + 1, offset)
        more = len(docs) > limit
        return NotificationPage(
            items=[NotificationOut.of(d) for d in docs[:limit]],
            next_offset=offset + limit if more else None,
        )

    @router.get("/channels", tags=["notifications"], response_model=list[ChannelOut])
    async def list_channels(_: Operator) -> list[ChannelOut]:
        """Which delivery channels this deployment has switched on, and why not the others."""
        return [
            ChannelOut(channel=ch, enabled=why is None, detail=why) for ch, why in channels.items()
        ]

    async def unsubscribe(token: str) -> HTMLResponse:
        verified = tokens.verify_token(token)
        if verified is None:
            raise ApiError(400, "invalid_token", "this unsubscribe link is not valid")
        channel, key = verified
        await store.unsubscribe(key, channel.value, utcnow())
        return HTMLResponse(
            "<!doctype html><meta charset='utf-8'><title>Unsubscribed</title>"
            f"<p>{_UNSUBSCRIBED[channel]}</p>"
        )

    @router.get("/unsubscribe", tags=["notifications"], response_class=HTMLResponse)
    async def unsubscribe_link(token: Annotated[str, Query(max_length=200)]) -> HTMLResponse:
        """The link in every email and every SMS to a resident: that address (email address or
        phone number) receives no more messages on that channel."""
        return await unsubscribe(token)

    @router.post("/unsubscribe", tags=["notifications"], response_class=HTMLResponse)
    async def unsubscribe_one_click(token: Annotated[str, Query(max_length=200)]) -> HTMLResponse:
        """RFC 8058 one-click unsubscribe (mail clients POST to the List-Unsubscribe URL)."""
        return await unsubscribe(token)

    @router.get(
        "/reports/{report_id}/stream",
        tags=["stream"],
        response_class=StreamingResponse,
        responses={
            200: {"content": {"text/event-stream": {}}},
            404: {"description": "No event of this report has reached notify"},
            503: {"description": "This process holds its maximum of open streams; see Retry-After"},
        },
    )
    async def status_stream(
        report_id: Annotated[str, Path(max_length=100)],
        request: Request,
        last_event_id: Annotated[str | None, Header(alias="Last-Event-ID")] = None,
    ) -> Response:
        """Server-Sent Events: each status change of the report (`event: status`, `id:` its
        number in the report's history), resuming after `Last-Event-ID`; keep-alive comments.
        404 for a report notify has never heard of; 503 with `Retry-After` when this process
        already holds `SSE_MAX_STREAMS` open streams."""
        if not await store.report_known(report_id):
            raise ApiError(404, "not_found", "no such report")
        slot = limit.acquire()
        if slot is None:
            return JSONResponse(
                error_body("too_many_streams", "too many open status streams; retry later"),
                status_code=503,
                headers={"Retry-After": str(stream.retry_after_s)},
            )
        after = int(last_event_id) if last_event_id and last_event_id.isdigit() else 0
        return _SlotStreamingResponse(
            _status_events(report_id, after, request, store, hub, stream, stopping, slot),
            slot,
            media_type="text/event-stream",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )

    return router


async def _status_events(
    report_id: str,
    after: int,
    request: Request,
    store: NotifyStore,
    hub: StatusHub,
    config: StreamConfig,
    stopping: asyncio.Event,
    slot: StreamSlot,
) -> AsyncIterator[str]:
    moved = hub.watch(report_id)
    last_write = time.monotonic()
    try:
        yield "retry: 3000\n\n"
        while not stopping.is_set() and not await request.is_disconnected():
            if moved.is_set():
                moved.clear()
                for change in await store.status_changes(report_id, after):
                    after = int(change["n"])
                    last_write = time.monotonic()
                    yield _sse(change)
            try:
                # Wake for news, or at least once a second to notice a disconnect.
                await asyncio.wait_for(moved.wait(), timeout=min(1.0, config.keepalive_s))
            except TimeoutError:
                if time.monotonic() - last_write >= config.keepalive_s:
                    last_write = time.monotonic()
                    yield ": keep-alive\n\n"
    finally:
        hub.unwatch(report_id, moved)
        slot.release()
