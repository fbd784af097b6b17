"""The one place that wires intake: settings -> runtime -> stores -> use cases -> subscribers
and loops -> routers -> app."""

from __future__ import annotations

import asyncio
import base64
import logging
from datetime import timedelta
from typing import Any

from fastapi import FastAPI

from services.intake import web
from services.intake.api import resident
from services.intake.api import triage as triage_api
from services.intake.api.open311 import routes as open311
from services.intake.domain import residents
from services.intake.domain.duetime import city_zone
from services.intake.domain.projection import PRODUCED
from services.intake.domain.ratelimit import TokenBuckets
from services.intake.domain.triage import TriageRules
from services.intake.errors import ERRORS
from services.intake.handlers import TOPICS, Handlers
from services.intake.metrics import IntakeMetrics
from services.intake.settings import IntakeSettings
from services.intake.stores import (
    PHOTOS,
    IdempotencyStore,
    ReportStore,
    SupportStore,
    idempotency_expiry,
    indexes,
)
from services.intake.stores.triage import CorrectionStore, TriageModelStore
from services.intake.triage.data import seed_model
from services.intake.triage.process import run_trainer
from services.intake.usecases import Intake
from services.intake.usecases.create import FileReport, PhotoRules
from services.intake.usecases.events import ConsumedEvents
from services.intake.usecases.open311 import Open311
from services.intake.usecases.queries import Queries
from services.intake.usecases.quotas import Quota, Quotas
from services.intake.usecases.resident import ResidentActions, ResidentTokens
from services.intake.usecases.triage import Triage
from services.intake.usecases.upkeep import Upkeep
from shared.account_versions import ACCOUNT_VERSION_INDEXES, AccountVersions
from shared.aio import wait_any
from shared.auth import AuthConfig, Revocations, TokenCodec, principal_dependency
from shared.catalog_copy import CatalogCopy
from shared.crypto import PiiBox
from shared.edge import BodyLimit
from shared.events import utcnow
from shared.http import create_app
from shared.photos import PhotoStore
from shared.runtime import Loop, Runtime
from shared.web import allow_origins, mount_vendor

log = logging.getLogger(__name__)


def build_app(settings: IntakeSettings) -> FastAPI:
    runtime = Runtime(
        settings,
        {**indexes(), **ACCOUNT_VERSION_INDEXES},
        expiries=[idempotency_expiry(settings.idempotency_ttl_s)],
    )
    intake = use_cases(settings, runtime)
    accounts = AccountVersions(runtime.db)  # routing's token versions: the revocation feed
    handlers = Handlers(intake.events, accounts)
    # One group member for all consumed topics (one join, one rebalance), and one handler for
    # each polled batch of them (read and written in bulk).
    runtime.consumer.subscribe_batch(TOPICS, handlers.on_batch)
    runtime.documents_publishing(*PRODUCED)
    runtime.add_loop(_housekeeping(intake.upkeep, settings.reconcile_interval_s))
    if intake.triage is not None:
        runtime.add_loop(_triage_refresh(intake.triage, settings.triage_refresh_s))

    page = web_config(settings)
    app = create_app(
        runtime,
        title="Field reports: intake",
        description="Resident API (`/api/v1`) and Open311 GeoReport v2 (`/open311/v2`); "
        "the resident web app at `/`.",
        errors=ERRORS,
        body_limits=upload_limits(settings),
        csp=page.csp(),
    )
    app.state.intake = intake
    app.state.intake_authenticate = principal_dependency(
        TokenCodec(AuthConfig(secret=settings.jwt_secret)),
        revocations=Revocations(  # fails closed: 503 while the versions cannot be read
            accounts.changed_since,
            ttl=timedelta(seconds=settings.jwt_ttl_s),
            refresh=timedelta(seconds=settings.token_revocation_refresh_s),
        ),
    )
    app.include_router(resident.router)
    app.include_router(triage_api.router)
    app.include_router(open311.router)
    app.include_router(web.router(page))
    mount_vendor(app)
    allow_origins(app, settings.web_allowed_origins.split(","))
    return app


def web_config(settings: IntakeSettings) -> web.WebConfig:
    return web.WebConfig(
        notify_url=settings.web_notify_url,
        routing_url=settings.web_routing_url,
        analytics_url=settings.web_analytics_url,
        tile_url=settings.map_tile_url,
        tile_attribution=settings.map_tile_attribution,
        max_photos=settings.max_photos,
        duplicate_radius_m=settings.duplicate_radius_m,
    )


def use_cases(settings: IntakeSettings, runtime: Runtime) -> Intake:
    """The stores over the runtime's database, and the use cases over them."""
    tx, clock = runtime.transactions, utcnow
    reports, photos = ReportStore(runtime.db), PhotoStore(runtime.db, PHOTOS)
    catalog = CatalogCopy(runtime.db)
    metrics = IntakeMetrics(runtime.metrics.registry)
    triage = triage_use_case(settings, runtime)
    queries = Queries(reports, catalog, photos, nearby_max_radius_m=settings.nearby_max_radius_m)
    file_report = FileReport(
        tx,
        reports,
        IdempotencyStore(runtime.db),
        photos,
        queries,
        PiiBox(settings.pii_key),
        metrics,
        clock,
        photo_rules=PhotoRules(
            max_count=settings.max_photos,
            max_bytes=settings.photo_max_bytes,
            max_pixels=settings.photo_max_pixels,
            thumb_px=settings.thumb_px,
        ),
        public_base_url=settings.public_base_url,
        duplicate_radius_m=settings.duplicate_radius_m,
        triage=triage,
    )
    return Intake(
        file_report=file_report,
        quotas=quotas(settings, metrics),
        resident=ResidentActions(tx, reports, SupportStore(runtime.db), clock),
        residents=ResidentTokens(
            residents.derive_key(base64.b64decode(settings.pii_key)),
            clock,
            timedelta(days=settings.resident_token_max_age_days),
        ),
        queries=queries,
        open311=Open311(
            file_report,
            queries,
            reports,
            api_keys=settings.open311_keys,
            max_page_size=settings.open311_max_page_size,
            max_updates=settings.open311_max_updates,
        ),
        events=consumed_events(runtime, reports, catalog),
        upkeep=Upkeep(
            tx,
            reports,
            photos,
            metrics,
            clock,
            reconcile_after=timedelta(seconds=settings.reconcile_after_s),
            autoclose_after=timedelta(days=settings.autoclose_after_days),
            photo_grace=timedelta(seconds=settings.photo_pending_grace_s),
        ),
        city_zone=city_zone(settings.city_time_zone),
        triage=triage,
    )


def consumed_events(runtime: Runtime, reports: ReportStore, catalog: CatalogCopy) -> ConsumedEvents:
    """Routing's lifecycle and catalogue; operators' corrections become training examples."""
    return ConsumedEvents(
        reports,
        catalog,
        utcnow,
        own_source=runtime.outbox.source,
        corrections=CorrectionStore(runtime.db),
    )


def triage_use_case(settings: IntakeSettings, runtime: Runtime) -> Triage:
    """The seed model until the database's promoted one is read; retraining in a child process
    on intake's own database."""
    env = {"MONGODB_URI": settings.mongodb_uri, "MONGODB_DB": settings.database_name}

    async def trainer() -> dict[str, Any]:
        return await run_trainer(env, settings.triage_train_timeout_s)

    rules = TriageRules(
        accept_confidence=settings.triage_accept_confidence,
        dispute_max=settings.triage_dispute_max,
        dispute_min=settings.triage_dispute_min,
    )
    return Triage(TriageModelStore(runtime.db), seed_model(), rules, trainer)


def quotas(settings: IntakeSettings, metrics: IntakeMetrics) -> Quotas:
    """The per-client limits by name (`usecases/quotas.py`), from `RATE_LIMIT_<NAME>_*`."""
    names = ("create", "read", "act", "resident_token", "suggest")
    return Quotas(
        {
            name: Quota(
                TokenBuckets(
                    getattr(settings, f"rate_limit_{name}_burst"),
                    getattr(settings, f"rate_limit_{name}_per_minute"),
                ),
                metrics,
                name,
            )
            for name in names
        }
    )


def _triage_refresh(triage: Triage, interval_s: float) -> Loop:
    async def newer_model(stop: asyncio.Event) -> None:
        """Reads the promoted model at start, then looks for a newer one every interval."""
        while not stop.is_set():
            try:
                await triage.refresh_once()
            except Exception as exc:
                log.warning("category model refresh failed: %r", exc)
            await wait_any(stop, timeout=interval_s)

    return newer_model


def _housekeeping(upkeep: Upkeep, interval_s: float) -> Loop:
    async def reconcile_and_autoclose(stop: asyncio.Event) -> None:
        """Re-announces stale `received` reports, auto-closes unrated resolved ones and deletes
        orphan photo files."""
        while not stop.is_set():
            try:
                await upkeep.once()
            except Exception as exc:
                log.warning("housekeeping failed: %r", exc)
            await wait_any(stop, timeout=interval_s)

    return reconcile_and_autoclose


def upload_limits(settings: IntakeSettings) -> list[BodyLimit]:
    """The creates that carry photos may be as large as their photos (plus the form)."""
    photos = settings.max_photos * settings.photo_max_bytes + 1024 * 1024
    return [
        BodyLimit("POST", r"/api/v1/reports$", photos),
        BodyLimit("POST", r"/open311/v2/requests(\.(json|xml))?$", photos),
    ]
