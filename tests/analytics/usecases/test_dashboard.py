"""The dashboard page template gets the language and the refresh period."""

from __future__ import annotations

from services.analytics.usecases.dashboard import DashboardPage


def test_page_is_filled_with_language_and_refresh_period() -> None:
    page = DashboardPage('<html lang="{{lang}}" data-refresh="{{refresh_s}}">', 60)
    assert page("en") == '<html lang="en" data-refresh="60">'
