"""The unsubscribe link every email and every SMS to a resident carries.

GET only shows a confirmation page (mail scanners and link previews follow links); the page's
button, and RFC 8058 one-click clients (`List-Unsubscribe-Post: List-Unsubscribe=One-Click`),
POST to the same URL, and only that unsubscribes.
"""

from html import escape
from typing import Annotated

from fastapi import APIRouter, Form, Query
from fastapi.responses import HTMLResponse

from services.notify.api.deps import UnsubscribeDep
from services.notify.domain.model import Channel

router = APIRouter(tags=["notifications"])

Token = Annotated[str, Query(max_length=200)]
TokenField = Annotated[str | None, Form(alias="token", max_length=200)]
OneClick = Annotated[str | None, Form(alias="List-Unsubscribe", max_length=20)]

_WHAT = {
    Channel.EMAIL: ("thư", "emails"),
    Channel.SMS: ("tin nhắn SMS", "SMS"),
}


def _page(title: str, body: str) -> HTMLResponse:
    return HTMLResponse(
        f"<!doctype html><meta charset='utf-8'><title>{title}</title>{body}",
        headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"},
    )


def _confirmation(channel: Channel, token: str) -> HTMLResponse:
    vi, en = _WHAT[channel]
    return _page(
        "Unsubscribe",
        f"<p>Ngừng nhận {vi} về phản ánh? / Stop receiving {en} about reports?</p>"
        "<form method='post' action='unsubscribe'>"
        f"<input type='hidden' name='token' value='{escape(token, quote=True)}'>"
        "<input type='hidden' name='List-Unsubscribe' value='One-Click'>"
        "<button type='submit'>Ngừng nhận / Unsubscribe</button></form>",
    )


def _done(channel: Channel) -> HTMLResponse:
    vi, en = _WHAT[channel]
    return _page(
        "Unsubscribed", f"<p>Bạn sẽ không nhận thêm {vi} nào. / You will receive no more {en}.</p>"
    )


@router.get("/unsubscribe", response_class=HTMLResponse)
async def unsubscribe_link(token: Token, unsubscribe: UnsubscribeDep) -> HTMLResponse:
    """The link in every email and every SMS to a resident: a page asking to confirm (a
    POST). Following the link alone changes nothing."""
    return _confirmation(unsubscribe.check(token), token)


@router.post("/unsubscribe", response_class=HTMLResponse)
async def unsubscribe_confirmed(
    unsubscribe: UnsubscribeDep,
    token: Annotated[str | None, Query(max_length=200)] = None,
    token_field: TokenField = None,
    one_click: OneClick = None,  # RFC 8058's body; the POST itself is the confirmation
) -> HTMLResponse:
    """Confirmed (the page's button) or RFC 8058 one-click (`List-Unsubscribe=One-Click`
    posted to the link): that address (email address or phone number) receives no more
    messages on that channel. The token comes in the query (the link) or the form."""
    return _done(await unsubscribe.unsubscribe(token or token_field or ""))
