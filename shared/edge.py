"""ASGI middleware at the very edge of every service: request body caps and security headers.

Both run before routing, so before any body parsing and any credential check: a body over its
cap is refused with 413 while it streams (or at once from its Content-Length), whatever the
route would have done with it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.errors import error_body


@dataclass(frozen=True)
class BodyLimit:
    """Requests whose method is `method` and path matches `path` may carry up to `max_bytes`."""

    method: str
    path: str  # a regular expression, matched from the start of the path
    max_bytes: int


class _TooLarge(Exception):
    pass


class BodyLimitMiddleware:
    def __init__(self, app: ASGIApp, default_max: int, limits: Sequence[BodyLimit] = ()) -> None:
        self.app = app
        self.default_max = default_max
        self.limits = [(lim.method, re.compile(lim.path), lim.max_bytes) for lim in limits]

    def cap(self, method: str, path: str) -> int:
        for lim_method, pattern, max_bytes in self.limits:
            if method == lim_method and pattern.match(path):
                return max_bytes
        return self.default_max

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        cap = self.cap(str(scope.get("method", "GET")), str(scope.get("path", "")))
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > cap:
            await _refuse(send, cap)
            return
        seen = 0
        started = False

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > cap:
                    raise _TooLarge
            return message

        async def tracking(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, tracking)
        except _TooLarge:
            if not started:
                await _refuse(send, cap)


async def _refuse(send: Send, cap: int) -> None:
    body = json.dumps(
        error_body("payload_too_large", f"request body over {cap} bytes"), ensure_ascii=False
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


# FastAPI's interactive docs load Swagger UI / ReDoc from a CDN with an inline bootstrap script.
_DOCS_PATHS = ("/docs", "/redoc")
_DOCS_CSP = (
    "default-src 'none'; script-src 'self' https://cdn.jsdelivr.net 'unsafe-inline'; "
    "style-src 'self' https://cdn.jsdelivr.net 'unsafe-inline'; img-src 'self' data: "
    "https://fastapi.tiangolo.com https://cdn.redoc.ly; connect-src 'self'; "
    "worker-src blob:; frame-ancestors 'none'; base-uri 'none'"
)


def content_security_policy(connect: Sequence[str] = (), images: Sequence[str] = ()) -> str:
    """The policy of every page we serve: our own scripts and styles only; `connect` and
    `images` add the origins pages may call (other services) and load tiles from."""
    connect_src = " ".join(["'self'", *connect])
    img_src = " ".join(["'self'", "data:", "blob:", *images])
    return (
        f"default-src 'self'; script-src 'self'; style-src 'self'; img-src {img_src}; "
        f"connect-src {connect_src}; font-src 'self'; object-src 'none'; "
        "frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
    )


class SecurityHeadersMiddleware:
    def __init__(self, app: ASGIApp, csp: str) -> None:
        self.app = app
        self.common = [
            (b"x-content-type-options", b"nosniff"),
            (b"x-frame-options", b"DENY"),
            (b"referrer-policy", b"no-referrer"),
            (b"cross-origin-opener-policy", b"same-origin"),
            (b"permissions-policy", b"camera=(self), geolocation=(self), microphone=()"),
        ]
        self.csp = csp.encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        docs = str(scope.get("path", "")).startswith(_DOCS_PATHS)
        csp = _DOCS_CSP.encode() if docs else self.csp

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"server"]
                message["headers"] = [*headers, *self.common, (b"content-security-policy", csp)]
            await send(message)

        await self.app(scope, receive, with_headers)
