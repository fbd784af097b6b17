"""The unsubscribe link every email and every SMS to a resident carries."""

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse

from services.notify.api.deps import UnsubscribeDep
from services.notify.domain.model import Channel

router = APIRouter(tags=["notifications"])

Token = Annotated[str, Query(max_length=200)]

_UNSUBSCRIBED = {
    Channel.EMAIL: "Bạn sẽ không nhận thêm thư nào. / You will receive no more emails.",
    Channel.SMS: "Bạn sẽ không nhận thêm tin nhắn SMS nào. / You will receive no more SMS.",
}


def _page(channel: Channel) -> HTMLResponse:
    return HTMLResponse(
        "<!doctype html><meta charset='utf-8'><title>Unsubscribed</title>"
        f"<p>{_UNSUBSCRIBED[channel]}</p>"
    )


@router.get("/unsubscribe", response_class=HTMLResponse)
async def unsubscribe_link(token: Token, unsubscribe: UnsubscribeDep) -> HTMLResponse:
    """The link in every email and every SMS to a resident: that address (email address or
    phone number) receives no more messages on that channel."""
    return _page(await unsubscribe.unsubscribe(token))


@router.post("/unsubscribe", response_class=HTMLResponse)
async def unsubscribe_one_click(token: Token, unsubscribe: UnsubscribeDep) -> HTMLResponse:
    """RFC 8058 one-click unsubscribe (mail clients POST to the List-Unsubscribe URL)."""
    return _page(await unsubscribe.unsubscribe(token))
