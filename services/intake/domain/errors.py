"""Intake's refusals: subclasses of `shared.errors`, each with its stable `code`.

The HTTP edge gives them their statuses (`services/intake/errors.py`, one table for the resident
API and Open311); nothing here knows HTTP.
"""

from __future__ import annotations

from shared.errors import (
    Conflict,
    DomainError,
    Forbidden,
    InvalidInput,
    NotFound,
    RateLimited,
    TooLarge,
    Unauthorized,
    Unavailable,
)

__all__ = [
    "AlreadySupported",
    "CatalogUnavailable",
    "CategoryRequired",
    "Conflict",
    "DomainError",
    "Forbidden",
    "IdempotencyConflict",
    "InvalidInput",
    "InvalidResidentToken",
    "InvalidToken",
    "MalformedBody",
    "NotFound",
    "NotOpen",
    "NotResolved",
    "NotSupported",
    "PhotoBadType",
    "PhotoRejected",
    "PhotoTooLarge",
    "RateLimited",
    "ResidentTokenRequired",
    "TooLarge",
    "TrainingFailed",
    "TrainingRunning",
    "Unavailable",
    "UnknownCategory",
    "UnsupportedContentType",
    "photo_rejected",
]


class UnknownCategory(InvalidInput):
    code = "unknown_category"


class CatalogUnavailable(Unavailable):
    code = "catalog_unavailable"


class CategoryRequired(InvalidInput):
    """No category given and the suggestion is not confident enough (`details`: suggestions)."""

    code = "category_required"


class TrainingRunning(Conflict):
    code = "training_running"


class TrainingFailed(Unavailable):
    code = "training_failed"


class InvalidToken(Forbidden):
    code = "invalid_token"


class ResidentTokenRequired(Unauthorized):
    code = "resident_token_required"


class InvalidResidentToken(Unauthorized):
    code = "invalid_resident_token"


class MalformedBody(DomainError):
    """A body that cannot be parsed at all (a broken multipart stream): 400, not a 422 about
    one field."""

    code = "malformed_body"


class IdempotencyConflict(Conflict):
    code = "idempotency_conflict"


class AlreadySupported(Conflict):
    code = "already_supported"


class NotResolved(Conflict):
    """Rating needs a resolved report; reopening a resolved or closed one."""

    code = "not_resolved"


class NotOpen(Conflict):
    code = "not_open"


class UnsupportedContentType(InvalidInput):
    """A create body that is neither JSON nor multipart (`http_error`: the code it always had)."""

    code = "http_error"


class NotSupported(DomainError):
    """A resource the spec names but this jurisdiction does not offer (Open311 POST updates)."""

    code = "not_implemented"


class PhotoRejected(InvalidInput):
    """`reason` is a bounded label (a metric label too): too_large, too_many, bad_type, bomb,
    corrupt; the code is `photo_<reason>`."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message, field="photos", code=f"photo_{reason}")
        self.reason = reason


class PhotoTooLarge(PhotoRejected):
    pass


class PhotoBadType(PhotoRejected):
    pass


def photo_rejected(reason: str, message: str) -> PhotoRejected:
    """The refusal of one photo, of the class its reason calls for."""
    kind = {"too_large": PhotoTooLarge, "bad_type": PhotoBadType}.get(reason, PhotoRejected)
    return kind(reason, message)
