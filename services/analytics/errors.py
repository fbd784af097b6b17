"""THE error table of analytics: its domain errors -> HTTP status (`create_app(errors=...)`)."""

from __future__ import annotations

from services.analytics.domain.errors import InvalidDateRange
from shared.errors import ErrorTable

ERRORS: ErrorTable = {InvalidDateRange: 422}
