"""W3C trace context carried from HTTP requests through the outbox into consumers."""

from __future__ import annotations

import contextvars
import secrets

_traceparent: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "traceparent", default=None
)


def new_traceparent() -> str:
    return f"00-{secrets.token_hex(16)}-{secrets.token_hex(8)}-01"


def trace_id(traceparent: str | None) -> str | None:
    parts = (traceparent or "").split("-")
    return parts[1] if len(parts) == 4 and len(parts[1]) == 32 else None


def current_traceparent() -> str | None:
    return _traceparent.get()


def set_traceparent(value: str | None) -> contextvars.Token[str | None]:
    return _traceparent.set(value if trace_id(value) else new_traceparent())
