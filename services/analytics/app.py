"""The one place that wires analytics: runtime, store, subscriptions, loops, routers."""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from services.analytics.api import STATIC, dashboard_router, stats_router
from services.analytics.handlers import catalog_handler, report_handler
from services.analytics.projection import BusinessGauges, Projector, Statistics
from services.analytics.settings import AnalyticsSettings
from services.analytics.store import INDEXES, AnalyticsStore
from shared.consumer import session_handler
from shared.events import REPORT_TOPICS, Topic
from shared.http import create_app
from shared.runtime import Runtime


@dataclass
class Analytics:
    """The wired parts, without HTTP (the rebuild command runs just these)."""

    runtime: Runtime
    store: AnalyticsStore
    projector: Projector
    statistics: Statistics


def build_projection(settings: AnalyticsSettings) -> Analytics:
    runtime = Runtime(settings, INDEXES)
    store = AnalyticsStore(runtime.db)
    projector = Projector(
        store,
        ZoneInfo(settings.timezone),
        interval_s=settings.projector_interval_s,
        batch_size=settings.projector_batch_size,
    )
    # One Kafka consumer for all topics: the group is joined once, not once per topic.
    handlers = {str(t): report_handler(t, store, projector.poke) for t in REPORT_TOPICS}
    handlers[Topic.JURISDICTION_CATALOG] = catalog_handler(store)
    runtime.consumer.subscribe_many(
        {t: session_handler(h) for t, h in (handlers).items()}, title=f"{settings.group_id}:events"
    )
    runtime.add_loop(projector.run)
    return Analytics(runtime, store, projector, Statistics(store))


def build_app(settings: AnalyticsSettings) -> FastAPI:
    parts = build_projection(settings)
    gauges = BusinessGauges(
        parts.statistics, parts.runtime.metrics.registry, settings.gauges_interval_s
    )
    parts.runtime.add_loop(gauges.run)
    app = create_app(
        parts.runtime,
        title="Field reports: analytics",
        description="Public statistics of citizen field reports: summary, agency scoreboard, "
        "categories, time series, heat grid (JSON or CSV) and the dashboard page.",
    )
    app.state.analytics = parts
    app.state.gauges = gauges
    app.include_router(stats_router(parts.statistics, settings))
    app.include_router(dashboard_router(settings))
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    return app
