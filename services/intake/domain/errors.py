"""Refusals of the domain; the HTTP adapters (JSON API, Open311) map them to their shapes."""

from __future__ import annotations


class DomainError(Exception):
    code = "error"

    def __init__(self, message: str, *, field: str | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        if code:
            self.code = code


class InvalidInput(DomainError):
    code = "validation_error"


class NotFound(DomainError):
    code = "not_found"


class Conflict(DomainError):
    code = "conflict"


class Forbidden(DomainError):
    code = "forbidden"


class Unavailable(DomainError):
    code = "unavailable"


class PhotoRejected(DomainError):
    """`reason` is a bounded label: too_large, too_many, bad_type, bomb, corrupt."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message, field="photos", code=f"photo_{reason}")
        self.reason = reason
