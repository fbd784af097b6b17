"""The HTTP edge: the statistics API (`stats.py`) and the dashboard page (`dashboard.py`)."""

from __future__ import annotations

from services.analytics.api.dashboard import STATIC, dashboard_router
from services.analytics.api.stats import stats_router

__all__ = ["STATIC", "dashboard_router", "stats_router"]
