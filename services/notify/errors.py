"""THE table of notify's refusals and their HTTP statuses (`create_app(..., errors=ERRORS)`)."""

from __future__ import annotations

from services.notify.domain.errors import (
    InvalidUnsubscribeToken,
    ReportNotFound,
    TooManyClientStreams,
    TooManyStreams,
)
from shared.errors import ErrorTable

ERRORS: ErrorTable = {
    InvalidUnsubscribeToken: 400,
    ReportNotFound: 404,
    TooManyStreams: 503,  # with Retry-After
    TooManyClientStreams: 429,  # with Retry-After
}
