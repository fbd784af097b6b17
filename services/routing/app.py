"""Wires routing together: runtime, stores, service, consumers, loops and routers."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

from fastapi import FastAPI

from services.routing.api import build_router
from services.routing.auth import Accounts
from services.routing.handlers import created_handler, reopened_handler
from services.routing.metrics import RoutingMetrics
from services.routing.photos import PhotoStore
from services.routing.service import RoutingService
from services.routing.settings import RoutingSettings
from services.routing.store import INDEXES, RoutingStore
from shared.aio import wait_any
from shared.auth import AuthConfig, TokenCodec
from shared.consumer import session_handler
from shared.events import Topic
from shared.http import create_app
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
    Topic.JURISDICTION_CATALOG,
)


def startup_loop(service: RoutingService) -> Loop:
    async def seed_jurisdiction(stop: asyncio.Event) -> None:
        """Seeds the jurisdiction if newer and republishes the catalogue, once per start."""
        delay = 0.5
        while not stop.is_set():
            try:
                j = await service.seed_and_publish()
            except Exception as exc:
                log.warning("jurisdiction seeding failed, retrying in %.1fs: %r", delay, exc)
                await wait_any(stop, timeout=delay)
                delay = min(delay * 2, 10.0)
                continue
            log.info("jurisdiction version %d in force; catalogue published", j.version)
            return

    return seed_jurisdiction


def deadline_loop(service: RoutingService, interval: float) -> Loop:
    async def check_deadlines(stop: asyncio.Event) -> None:
        """Every `interval`: escalate breached deadlines once, refresh the business gauges."""
        while not stop.is_set():
            try:
                await service.check_deadlines()
                await service.refresh_gauges()
            except Exception as exc:
                log.warning("deadline check failed: %r", exc)
            await wait_any(stop, timeout=interval)

    return check_deadlines


def build_app(settings: RoutingSettings) -> FastAPI:
    runtime = Runtime(settings, INDEXES)
    store = RoutingStore(runtime.db)
    accounts = Accounts(store, demo_logins=settings.demo_logins)
    metrics = RoutingMetrics(runtime.metrics.registry)
    service = RoutingService(runtime, settings, store, accounts, metrics)
    codec = TokenCodec(
        AuthConfig(secret=settings.jwt_secret, ttl=timedelta(seconds=settings.jwt_ttl_s))
    )

    runtime.consumer.subscribe_many(
        {
            t: session_handler(h)
            for t, h in (
                {
                    Topic.REPORT_CREATED: created_handler(service),
                    Topic.REPORT_REOPENED: reopened_handler(service),
                }
            ).items()
        }
    )
    runtime.documents_publishing(*PRODUCED)
    runtime.add_loop(startup_loop(service))
    runtime.add_loop(deadline_loop(service, settings.deadline_check_interval_s))

    app = create_app(
        runtime,
        title="Routing",
        description="Jurisdiction, assignment of reports to agencies, staff and operator "
        "workflow, deadlines, staff login. Reporters' identities are never stored here.",
    )
    app.include_router(build_router(service, codec, PhotoStore(runtime.db)))
    app.state.routing = service
    return app
