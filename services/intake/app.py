"""The one place that wires intake: runtime, store, consumers, loops, routers, error mapping."""

from __future__ import annotations

import asyncio
import logging

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from services.intake import api
from services.intake.domain.errors import (
    Conflict,
    DomainError,
    Forbidden,
    InvalidInput,
    NotFound,
    PhotoRejected,
    Unavailable,
)
from services.intake.domain.projection import CONSUMED
from services.intake.domain.ratelimit import TokenBuckets
from services.intake.handlers import Handlers
from services.intake.open311.router import router as open311_router
from services.intake.service import Intake
from services.intake.settings import IntakeSettings
from services.intake.store import Store, indexes
from shared.aio import wait_any
from shared.consumer import session_handler
from shared.events import Topic
from shared.http import create_app, error_body
from shared.runtime import Loop, Runtime

log = logging.getLogger(__name__)

PHOTO_STATUS = {"too_large": 413, "bad_type": 415}


def status_of(exc: DomainError) -> int:
    if isinstance(exc, PhotoRejected):
        return PHOTO_STATUS.get(exc.reason, 422)
    for kind, status in (
        (InvalidInput, 422),
        (NotFound, 404),
        (Conflict, 409),
        (Forbidden, 403),
        (Unavailable, 503),
    ):
        if isinstance(exc, kind):
            return status
    return 400


def build_app(settings: IntakeSettings) -> FastAPI:
    runtime = Runtime(settings, indexes(settings.idempotency_ttl_s))
    store = Store(runtime.db)
    intake = Intake(runtime, store, settings)
    handlers = Handlers(store, runtime.outbox.source)
    # One group member for all consumed topics: one join, one rebalance.
    runtime.consumer.subscribe_many(
        {
            t: session_handler(h)
            for t, h in (
                {
                    **{str(topic): handlers.on_lifecycle for topic in CONSUMED},
                    Topic.JURISDICTION_CATALOG: handlers.on_catalog,
                }
            ).items()
        }
    )
    runtime.documents_publishing(
        Topic.REPORT_CREATED,
        Topic.REPORT_RATED,
        Topic.REPORT_CLOSED,
        Topic.REPORT_REOPENED,
        Topic.REPORT_SUPPORTED,
    )
    runtime.add_loop(_housekeeping(intake, settings))

    app = create_app(
        runtime,
        title="Field reports: intake",
        description="Resident API (`/api/v1`) and Open311 GeoReport v2 (`/open311/v2`).",
    )
    app.state.intake = intake
    app.state.create_limiter = TokenBuckets(
        settings.rate_limit_create_burst, settings.rate_limit_create_per_minute
    )
    app.include_router(api.router)
    app.include_router(open311_router)

    @app.exception_handler(DomainError)
    async def domain_error(_: Request, exc: DomainError) -> JSONResponse:
        details = [{"field": exc.field, "message": exc.message}] if exc.field else None
        return JSONResponse(error_body(exc.code, exc.message, details), status_code=status_of(exc))

    return app


def _housekeeping(intake: Intake, settings: IntakeSettings) -> Loop:
    async def reconcile_and_autoclose(stop: asyncio.Event) -> None:
        """Re-announces stale `received` reports, auto-closes unrated resolved ones and deletes
        orphan photo files."""
        while not stop.is_set():
            try:
                await intake.reconcile_once()
                await intake.autoclose_once()
                await intake.sweep_photos_once()
            except Exception as exc:
                log.warning("housekeeping failed: %r", exc)
            await wait_any(stop, timeout=settings.reconcile_interval_s)

    return reconcile_and_autoclose
