"""Refusals, in domain terms: use cases raise these, and only these; the HTTP edge maps them.

Each service may subclass them for refusals of its own (with their own `code`), and gives
`create_app` a table from error class to HTTP status (`shared/http.py`); the nearest class in
an error's MRO decides. Nothing here knows HTTP.
"""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """`code` is a stable, bounded machine-readable label; `message` is for people."""

    code = "error"

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        field: str | None = None,
        retry_after_s: int | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.retry_after_s = retry_after_s  # when to try again (rate limits, capacity), if known
        self.extra = extra
        if code:
            self.code = code


class InvalidInput(DomainError):
    code = "validation_error"


class NotFound(DomainError):
    code = "not_found"


class Conflict(DomainError):
    code = "conflict"


class Unauthorized(DomainError):
    code = "unauthorized"


class Forbidden(DomainError):
    code = "forbidden"


class TooLarge(DomainError):
    code = "payload_too_large"


class RateLimited(DomainError):
    code = "rate_limited"

    def __init__(self, message: str, retry_after_s: int, **kwargs: Any) -> None:
        super().__init__(message, retry_after_s=retry_after_s, **kwargs)


class Unavailable(DomainError):
    code = "unavailable"


ErrorTable = dict[type[DomainError], int]


def error_body(code: str, message: str, details: list[Any] | None = None) -> dict[str, Any]:
    """The one error shape: `{"error": {"code", "message", "details"?}}`."""
    body: dict[str, Any] = {"code": code, "message": message}
    if details:
        body["details"] = details
    return {"error": body}


DEFAULT_STATUS: ErrorTable = {
    InvalidInput: 422,
    NotFound: 404,
    Conflict: 409,
    Unauthorized: 401,
    Forbidden: 403,
    TooLarge: 413,
    RateLimited: 429,
    Unavailable: 503,
    DomainError: 400,
}


def status_of(exc: DomainError, table: ErrorTable) -> int:
    """The status of the nearest class of `exc` that the table (or the default one) names."""
    for cls in type(exc).__mro__:
        if cls in table:
            return table[cls]
        if cls in DEFAULT_STATUS:
            return DEFAULT_STATUS[cls]
    return 400
