"""Analytics' refusals (the HTTP edge maps them in `services/analytics/errors.py`)."""

from __future__ import annotations

from shared.errors import InvalidInput


class InvalidDateRange(InvalidInput):
    """The first day of a filter is after its last day."""
