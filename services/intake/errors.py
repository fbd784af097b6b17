"""THE table of intake's refusals at the HTTP edge: domain error class -> status (the nearest
class in an error's MRO decides; `shared.errors.DEFAULT_STATUS` covers the rest). The resident
API renders it in the common error shape (`create_app`), Open311 in the spec's error list
(`api/open311/errors.py`)."""

from __future__ import annotations

from services.intake.domain.errors import (
    NotSupported,
    PhotoBadType,
    PhotoRejected,
    PhotoTooLarge,
    UnsupportedContentType,
)
from shared.errors import (
    Conflict,
    DomainError,
    ErrorTable,
    Forbidden,
    InvalidInput,
    NotFound,
    RateLimited,
    TooLarge,
    Unavailable,
)

ERRORS: ErrorTable = {
    InvalidInput: 422,
    PhotoRejected: 422,  # too_many, bomb, corrupt
    PhotoTooLarge: 413,
    PhotoBadType: 415,
    UnsupportedContentType: 415,
    TooLarge: 413,
    NotFound: 404,
    Conflict: 409,
    Forbidden: 403,
    RateLimited: 429,
    Unavailable: 503,
    NotSupported: 501,
    DomainError: 400,
}
