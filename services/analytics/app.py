"""The one place that wires analytics: settings -> runtime -> stores -> use cases ->
subscribers and loops -> routers -> app."""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from services.analytics import web as heat_map
from services.analytics.api import STATIC, dashboard_router, stats_router
from services.analytics.domain.rollups import ROLLUP_VERSION, RollupBasis
from services.analytics.domain.stats import GridLimits
from services.analytics.errors import ERRORS
from services.analytics.handlers import TOPICS, batch_handler
from services.analytics.settings import AnalyticsSettings
from services.analytics.stores import (
    INDEXES,
    RETIRED,
    FactQueries,
    FactStore,
    RollupGate,
    RollupStore,
)
from services.analytics.stores.legacy import LegacyEventLog
from services.analytics.usecases import UseCases
from services.analytics.usecases.catalog import CatalogMemory
from services.analytics.usecases.dashboard import DashboardPage
from services.analytics.usecases.events import KeepCatalog, ProjectEvents
from services.analytics.usecases.gauges import BusinessGauges, BusinessMetrics
from services.analytics.usecases.rollups import BuildRollups
from services.analytics.usecases.statistics import Statistics
from shared.catalog_copy import CatalogCopy
from shared.events import utcnow
from shared.http import create_app
from shared.runtime import Runtime
from shared.web import mount_vendor


@dataclass(frozen=True)
class Analytics:
    """The wired service without HTTP (the rebuild command runs just this)."""

    runtime: Runtime
    use_cases: UseCases


def build_projection(settings: AnalyticsSettings) -> Analytics:
    """Runtime, stores, use cases, the subscriber and the rollup check at start."""
    runtime = Runtime(settings, INDEXES, emits=False, retired=RETIRED)  # no outbox relay
    facts, rollups, gate = FactStore(runtime.db), RollupStore(runtime.db), RollupGate()
    copy = CatalogCopy(runtime.db)
    memory = CatalogMemory(copy)
    cell = settings.grid_default_cell_deg
    limits = GridLimits(cell, settings.grid_min_cell_deg, settings.grid_max_cells)
    statistics = Statistics(FactQueries(runtime.db, cell), memory, utcnow, limits)
    metrics = BusinessMetrics(runtime.metrics.registry)
    gauges = BusinessGauges(statistics, metrics, utcnow, settings.gauges_interval_s)
    tz = ZoneInfo(settings.timezone)
    use_cases = UseCases(
        project=ProjectEvents(facts, rollups, tz, cell, ready=gate.check, changed=gauges.changed),
        keep_catalog=KeepCatalog(copy, memory),
        rollups=BuildRollups(
            facts,
            rollups,
            RollupBasis(ROLLUP_VERSION, cell),
            gate.opened,
            legacy=(LegacyEventLog(runtime.db), tz),
        ),
        statistics=statistics,
        gauges=gauges,
        dashboard=DashboardPage(
            (STATIC / "index.html").read_text(encoding="utf-8"), settings.dashboard_refresh_s
        ),
    )
    # One Kafka consumer for all topics: the group is joined once, not once per topic.
    runtime.consumer.subscribe_batch(
        TOPICS,
        batch_handler(use_cases.project, use_cases.keep_catalog),
        title=f"{settings.group_id}:events",
    )
    runtime.add_loop(use_cases.rollups.run)
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
        csp=heat_map.csp(settings.areas_url, settings.map_tile_url),
    )
    app.state.analytics = analytics.use_cases
    app.include_router(stats_router)
    app.include_router(dashboard_router)
    app.include_router(
        heat_map.router(areas_url=settings.areas_url, tile_url=settings.map_tile_url)
    )
    mount_vendor(app)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    return app
