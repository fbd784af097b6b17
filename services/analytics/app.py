"""The one place that wires analytics: settings -> runtime -> stores -> use cases ->
subscribers and loops -> routers -> app."""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from services.analytics.api import STATIC, dashboard_router, stats_router
from services.analytics.domain.stats import GridLimits
from services.analytics.errors import ERRORS
from services.analytics.handlers import handlers
from services.analytics.settings import AnalyticsSettings
from services.analytics.stores import INDEXES, EventLog, FactQueries, FactStore
from services.analytics.usecases import UseCases
from services.analytics.usecases.dashboard import DashboardPage
from services.analytics.usecases.events import KeepCatalog, RecordReportEvent
from services.analytics.usecases.gauges import BusinessGauges, BusinessMetrics
from services.analytics.usecases.projection import Projector
from services.analytics.usecases.statistics import Statistics
from shared.catalog_copy import CatalogCopy
from shared.events import utcnow
from shared.http import create_app
from shared.runtime import Runtime


@dataclass(frozen=True)
class Analytics:
    """The wired service without HTTP (the rebuild command runs just this)."""

    runtime: Runtime
    use_cases: UseCases


def build_projection(settings: AnalyticsSettings) -> Analytics:
    """Runtime, stores, use cases, the subscribers and the projector loop."""
    runtime = Runtime(settings, INDEXES)
    log, facts = EventLog(runtime.db), FactStore(runtime.db)
    catalog, queries = CatalogCopy(runtime.db), FactQueries(runtime.db)
    projector = Projector(
        log,
        facts,
        ZoneInfo(settings.timezone),
        interval_s=settings.projector_interval_s,
        batch_size=settings.projector_batch_size,
    )
    limits = GridLimits(
        settings.grid_default_cell_deg, settings.grid_min_cell_deg, settings.grid_max_cells
    )
    statistics = Statistics(queries, catalog, utcnow, limits)
    metrics = BusinessMetrics(runtime.metrics.registry)
    use_cases = UseCases(
        record=RecordReportEvent(log, projector.poke),
        keep_catalog=KeepCatalog(catalog),
        projector=projector,
        statistics=statistics,
        gauges=BusinessGauges(statistics, metrics, utcnow, settings.gauges_interval_s),
        dashboard=DashboardPage(
            (STATIC / "index.html").read_text(encoding="utf-8"), settings.dashboard_refresh_s
        ),
    )
    # One Kafka consumer for all topics: the group is joined once, not once per topic.
    runtime.consumer.subscribe_many(
        handlers(use_cases.record, use_cases.keep_catalog), title=f"{settings.group_id}:events"
    )
    runtime.add_loop(projector.run)
    return Analytics(runtime, use_cases)


def build_app(settings: AnalyticsSettings) -> FastAPI:
    analytics = build_projection(settings)
    analytics.runtime.add_loop(analytics.use_cases.gauges.run)
    app = create_app(
        analytics.runtime,
        title="Field reports: analytics",
        description="Public statistics of citizen field reports: summary, agency scoreboard, "
        "categories, time series, heat grid (JSON or CSV) and the dashboard page.",
        errors=ERRORS,
    )
    app.state.analytics = analytics.use_cases
    app.include_router(stats_router)
    app.include_router(dashboard_router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    return app
