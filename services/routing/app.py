"""Wires routing together, in the same order as every service: settings -> runtime -> stores
-> use cases -> subscribers and loops -> routers -> app."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import timedelta

from fastapi import FastAPI

from services.routing import web as console
from services.routing.api import router
from services.routing.api.deps import RoutingApi, UploadLimits
from services.routing.api.schemas import Presenter
from services.routing.domain.logins import Backoff, LoginPolicy
from services.routing.errors import ERRORS
from services.routing.handlers import handlers
from services.routing.metrics import RoutingMetrics
from services.routing.settings import RoutingSettings
from services.routing.stores import (
    INDEXES,
    LOGIN_EXPIRY,
    PHOTOS_BUCKET,
    AccountStore,
    AssignmentStore,
    JurisdictionStore,
    LoginFailureStore,
    now_ms,
)
from services.routing.usecases.accounts import Accounts
from services.routing.usecases.admin import JurisdictionAdmin
from services.routing.usecases.closures import ClosureAdmin
from services.routing.usecases.deadlines import Deadlines
from services.routing.usecases.events import IncomingReports
from services.routing.usecases.logins import LoginThrottle
from services.routing.usecases.operator import OperatorCommands, OperatorQueries
from services.routing.usecases.photos import ResolutionPhotos
from services.routing.usecases.staff import StaffCommands, StaffQueries
from services.routing.usecases.workflow import Jurisdictions, Workflow
from shared.aio import wait_any
from shared.auth import AuthConfig, Revocations, TokenCodec, principal_dependency
from shared.edge import BodyLimit
from shared.events import Topic
from shared.http import create_app
from shared.photos import PhotoStore, sweep_loop
from shared.runtime import Loop, Runtime

log = logging.getLogger(__name__)

PRODUCED = (
    Topic.REPORT_ASSIGNED,
    Topic.REPORT_ACCEPTED,
    Topic.REPORT_IN_PROGRESS,
    Topic.REPORT_RESOLVED,
    Topic.REPORT_REJECTED,
    Topic.REPORT_DUPLICATE,
    Topic.REPORT_ESCALATED,
    Topic.REPORT_RECATEGORIZED,
    Topic.JURISDICTION_CATALOG,
    Topic.ACCOUNT_CHANGED,
)


def startup_loop(admin: JurisdictionAdmin) -> Loop:
    async def seed_jurisdiction(stop: asyncio.Event) -> None:
        """Seeds the jurisdiction if newer and republishes the catalogue, once per start."""
        delay = 0.5
        while not stop.is_set():
            try:
                j = await admin.seed_and_publish()
            except Exception as exc:
                log.warning("jurisdiction seeding failed, retrying in %.1fs: %r", delay, exc)
                await wait_any(stop, timeout=delay)
                delay = min(delay * 2, 10.0)
                continue
            log.info("jurisdiction version %d in force; catalogue published", j.version)
            return

    return seed_jurisdiction


def deadline_loop(deadlines: Deadlines, jurisdictions: Jurisdictions, interval: float) -> Loop:
    async def check_deadlines(stop: asyncio.Event) -> None:
        """Every `interval`: take another replica's jurisdiction change, escalate breached
        deadlines once, refresh the business gauges (two small reads when nothing changed)."""
        await wait_any(jurisdictions.seeded, stop)  # the start's own seeding is held first
        while not stop.is_set():
            try:
                await jurisdictions.refresh()
                await deadlines.check()
            except Exception as exc:
                log.warning("deadline check failed: %r", exc)
            await wait_any(stop, timeout=interval)

    return check_deadlines


def photo_sweep_loop(photos: PhotoStore, settings: RoutingSettings) -> Loop:
    async def sweep_photos(stop: asyncio.Event) -> None:
        """Deletes resolution photos a crash left pending (their resolve never committed)."""
        grace = timedelta(seconds=settings.photo_pending_grace_s)
        await sweep_loop(photos, grace, settings.photo_sweep_interval_s, stop)

    return sweep_photos


@dataclass(frozen=True)
class Wired:
    api: RoutingApi  # what the routes use (`app.state.routing`)
    reports: IncomingReports  # what the subscribers use
    photo_store: PhotoStore  # what the sweep loop sweeps


def use_cases(runtime: Runtime, settings: RoutingSettings) -> Wired:
    """Stores, then the use cases over them."""
    metrics = RoutingMetrics(runtime.metrics.registry)
    photo_store = PhotoStore(runtime.db, PHOTOS_BUCKET)
    jurisdictions = Jurisdictions(JurisdictionStore(runtime.db), settings.jurisdiction_file)
    work = Workflow(
        transactions=runtime.transactions,
        assignments=AssignmentStore(runtime.db),
        jurisdictions=jurisdictions,
        metrics=metrics,
        clock=now_ms,
        default_deadline_hours=settings.default_deadline_hours,
    )
    photos = ResolutionPhotos(
        photo_store, max_pixels=settings.photo_max_pixels, public_base_url=settings.public_base_url
    )
    accounts, revocations = logins(runtime, settings, jurisdictions)
    password = settings.bootstrap_admin_password
    bootstrap = (
        (settings.bootstrap_admin_username, password.get_secret_value()) if password else None
    )
    tokens = TokenCodec(
        AuthConfig(secret=settings.jwt_secret, ttl=timedelta(seconds=settings.jwt_ttl_s))
    )
    api = RoutingApi(
        staff_queries=StaffQueries(work),
        staff=StaffCommands(work, photos),
        operator_queries=OperatorQueries(work),
        operator=OperatorCommands(work),
        admin=JurisdictionAdmin(
            runtime.transactions, jurisdictions, accounts, now_ms, bootstrap_admin=bootstrap
        ),
        closures=ClosureAdmin(work),
        accounts=accounts,
        deadlines=Deadlines(work, timedelta(seconds=settings.open_gauge_interval_s)),
        photos=photos,
        present=Presenter(photos, now_ms),
        tokens=tokens,
        verify=principal_dependency(tokens, revocations=revocations),
        revocations=revocations,
        upload_limits=UploadLimits(settings.photos_max_count, settings.photo_max_bytes),
    )
    return Wired(api, IncomingReports(work), photo_store)


def logins(
    runtime: Runtime, settings: RoutingSettings, jurisdictions: Jurisdictions
) -> tuple[Accounts, Revocations]:
    """The accounts (throttled logins) and the revocations every token is checked against."""
    times = (
        settings.login_backoff_base_s,
        settings.login_backoff_max_s,
        settings.login_failure_window_s,
    )
    policy = LoginPolicy(
        per_account=Backoff(settings.login_free_failures_per_account, *times),
        per_client=Backoff(settings.login_free_failures_per_client, *times),
    )
    throttle = LoginThrottle(
        LoginFailureStore(runtime.db),
        policy,
        now_ms,
        max_concurrent=settings.login_max_concurrent_checks,
    )
    store = AccountStore(runtime.db)
    revocations = Revocations(
        store.changed_since,
        ttl=timedelta(seconds=settings.jwt_ttl_s),
        refresh=timedelta(seconds=settings.token_revocation_refresh_s),
    )
    accounts = Accounts(
        store,
        jurisdictions,
        demo_logins=settings.demo_logins,
        throttle=throttle,
        clock=now_ms,
        transactions=runtime.transactions,
        revoked=revocations.note,
    )
    return accounts, revocations


def build_app(settings: RoutingSettings) -> FastAPI:
    runtime = Runtime(settings, INDEXES, expiries=[LOGIN_EXPIRY])
    wired = use_cases(runtime, settings)

    runtime.consumer.subscribe_batch(*handlers(wired.reports))
    runtime.documents_publishing(*PRODUCED)
    runtime.add_loop(startup_loop(wired.api.admin))
    runtime.add_loop(
        deadline_loop(
            wired.api.deadlines, wired.api.admin.jurisdictions, settings.deadline_check_interval_s
        )
    )
    runtime.add_loop(photo_sweep_loop(wired.photo_store, settings))

    app = create_app(
        runtime,
        title="Routing",
        description="Jurisdiction, assignment of reports to agencies, staff and operator "
        "workflow, deadlines, staff login. Reporters' identities are never stored here.",
        errors=ERRORS,
        body_limits=upload_limits(settings),
        csp=console.csp(settings.console_intake_url, settings.map_tile_url),
    )
    app.include_router(router)
    app.include_router(
        console.router(
            intake_url=settings.console_intake_url,
            tile_url=settings.map_tile_url,
            tile_attribution=settings.map_tile_attribution,
        )
    )
    app.state.routing = wired.api
    return app


def upload_limits(settings: RoutingSettings) -> list[BodyLimit]:
    """Resolutions carry photos; a jurisdiction's boundaries can be megabytes of GeoJSON."""
    photos = settings.photos_max_count * settings.photo_max_bytes + 1024 * 1024
    return [
        BodyLimit("POST", r"/api/v1/assignments/[^/]+/resolve$", photos),
        BodyLimit("PUT", r"/api/v1/admin/jurisdiction$", 16 * 1024 * 1024),
    ]
