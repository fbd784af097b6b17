"""The one place that wires notify together: settings → runtime → stores → use cases →
subscribers and loops → routes → app."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

from fastapi import FastAPI

from services.notify import api
from services.notify.api.deps import Authenticate, NotifyApi
from services.notify.channels import SmsGatewaySender, WebhookSender
from services.notify.domain.delivery import RetryPolicy, UnsubscribeTokens
from services.notify.domain.destinations import DestinationPolicy
from services.notify.domain.model import Channel
from services.notify.domain.sending import Sender
from services.notify.errors import ERRORS
from services.notify.handlers import EventHandlers
from services.notify.mail import EmailSender, SmtpConfig
from services.notify.metrics import NotifyMetrics, RecordedCounter
from services.notify.rendering import Renderer
from services.notify.settings import NotifySettings
from services.notify.stores import (
    INDEXES,
    RETIRED,
    DeliveryQueue,
    DeliveryStore,
    PreferenceStore,
    ReportStore,
)
from services.notify.stream import StatusHub, StreamLimit
from services.notify.usecases.catalogue import CatalogueCache
from services.notify.usecases.delivery import DeliveryWorker, WorkerConfig
from services.notify.usecases.events import NewsConfig, RecordEvents
from services.notify.usecases.operators import Channels, DeliveryLog
from services.notify.usecases.residents import Unsubscribe
from services.notify.usecases.stream import StatusStream, StreamConfig
from shared.account_versions import ACCOUNT_VERSION_INDEXES, AccountVersions
from shared.auth import AuthConfig, Revocations, TokenCodec, principal_dependency
from shared.catalog_copy import CatalogCopy
from shared.crypto import PiiBox
from shared.events import utcnow
from shared.http import Lifespan, create_app
from shared.runtime import Runtime
from shared.web import allow_origins

log = logging.getLogger(__name__)


def webhook_destinations(settings: NotifySettings) -> DestinationPolicy:
    production = settings.environment == "production"
    return DestinationPolicy.of(production=production, allow_list=settings.webhook_allowed_networks)


def build_senders(settings: NotifySettings) -> tuple[dict[Channel, Sender], dict[Channel, str]]:
    """The enabled senders, and why each other channel is off."""
    senders: dict[Channel, Sender] = {
        Channel.WEBHOOK: WebhookSender(
            settings.webhook_secret, webhook_destinations(settings), settings.webhook_timeout_s
        )
    }
    disabled: dict[Channel, str] = {}
    if settings.smtp_host:
        password = settings.smtp_password.get_secret_value() if settings.smtp_password else None
        senders[Channel.EMAIL] = EmailSender(
            SmtpConfig(
                host=settings.smtp_host,
                port=settings.smtp_port,
                sender=settings.smtp_from,
                starttls=settings.smtp_starttls,
                username=settings.smtp_username,
                password=password,
                timeout_s=settings.smtp_timeout_s,
            ),
            connections=settings.delivery_concurrency_email,
        )
    else:
        disabled[Channel.EMAIL] = "SMTP_HOST is not set"
    if settings.sms_gateway_url:
        token = (
            settings.sms_gateway_token.get_secret_value() if settings.sms_gateway_token else None
        )
        senders[Channel.SMS] = SmsGatewaySender(
            settings.sms_gateway_url, token, settings.sms_timeout_s
        )
    else:
        disabled[Channel.SMS] = "SMS_GATEWAY_URL is not set"
    return senders, disabled


def retry_policy(settings: NotifySettings) -> RetryPolicy:
    return RetryPolicy(
        max_attempts=settings.delivery_max_attempts,
        base_s=settings.delivery_backoff_base_s,
        max_delay_s=settings.delivery_backoff_max_s,
    )


def worker_config(settings: NotifySettings) -> WorkerConfig:
    return WorkerConfig(
        public_base_url=settings.public_base_url.rstrip("/"),
        poll_interval_s=settings.delivery_poll_interval_s,
        lease_s=settings.delivery_lease_s,
        batch_size=settings.delivery_batch_size,
        sms_max_chars=settings.sms_max_chars,
        concurrency={
            Channel.EMAIL: settings.delivery_concurrency_email,
            Channel.WEBHOOK: settings.delivery_concurrency_webhook,
            Channel.SMS: settings.delivery_concurrency_sms,
        },
        gauges_interval_s=settings.gauges_interval_s,
    )


def news_config(settings: NotifySettings, disabled: dict[Channel, str]) -> NewsConfig:
    return NewsConfig(
        settings.ioc_agency_id,
        settings.report_url_template,
        disabled,
        settings.catalog_backfill_hours,
    )


def reporting_channels(disabled: dict[Channel, str]) -> Lifespan:
    """At start: says which channels are off, and keeps httpx from logging webhook URLs."""

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        for channel, why in disabled.items():  # logged once logging is configured
            log.warning("%s channel disabled: %s", channel.value, why)
        # httpx logs every request URL at INFO; agency webhook URLs may embed their secrets.
        logging.getLogger("httpx").setLevel(logging.WARNING)
        yield

    return lifespan


def staff_tokens(settings: NotifySettings, accounts: AccountVersions) -> Authenticate:
    """Routing's tokens; those of logins changed since they were issued are refused (fails
    closed: 503 while the copy of the versions cannot be read)."""
    revocations = Revocations(
        accounts.changed_since,
        ttl=timedelta(seconds=settings.jwt_ttl_s),
        refresh=timedelta(seconds=settings.token_revocation_refresh_s),
    )
    codec = TokenCodec(AuthConfig(secret=settings.jwt_secret))
    return principal_dependency(codec, revocations=revocations)


def build_app(settings: NotifySettings) -> FastAPI:
    runtime = Runtime(settings, INDEXES | ACCOUNT_VERSION_INDEXES, emits=False, retired=RETIRED)
    reports, deliveries = ReportStore(runtime.db), DeliveryStore(runtime.db)
    preferences = PreferenceStore(runtime.db)
    catalogue = CatalogueCache(CatalogCopy(runtime.db, max_age_s=settings.catalog_refresh_s))
    box, tokens = PiiBox(settings.pii_key), UnsubscribeTokens(settings.unsubscribe_secret)
    senders, disabled = build_senders(settings)
    metrics = NotifyMetrics(runtime.metrics.registry)
    worker = DeliveryWorker(
        DeliveryQueue(runtime.db), preferences, senders, Renderer(), box, tokens,
        retry_policy(settings), metrics, worker_config(settings), utcnow,
    )  # fmt: skip
    events = RecordEvents(
        reports,
        deliveries,
        preferences,
        catalogue,
        box,
        tokens,
        news_config(settings, disabled),
        utcnow,
        worker.wake,
        RecordedCounter(metrics),
        handoff=worker,
    )
    hub = StatusHub(reports, settings.sse_poll_interval_s)
    limit = StreamLimit(
        settings.sse_max_streams, settings.sse_max_streams_per_client, metrics.sse_streams.set
    )
    config = StreamConfig(settings.sse_keepalive_s, settings.sse_max_lifetime_s)
    stream = StatusStream(reports, hub, limit, config, runtime.stopping)
    # One Kafka consumer for all topics: one group join instead of thirteen.
    accounts = AccountVersions(runtime.db)
    handlers = EventHandlers(events, accounts)
    runtime.consumer.subscribe_batch(
        handlers.topics(),
        handlers.on_batch,
        title="notify:report.*+jurisdiction.catalog+auth.account_changed",
    )
    runtime.add_loop(worker.run)
    runtime.add_loop(hub.run)

    app = create_app(
        runtime,
        lifespan=reporting_channels(disabled),
        title="notify",
        description="Tells residents, agencies and IOC operators about reports; delivery log; "
        "live status stream (Server-Sent Events).",
        errors=ERRORS,
    )
    allow_origins(app, settings.web_allowed_origins.split(","))
    app.state.notify = NotifyApi(
        authenticate=staff_tokens(settings, accounts),
        delivery_log=DeliveryLog(deliveries),
        channels=Channels(disabled),
        unsubscribe=Unsubscribe(tokens, preferences, utcnow),
        stream=stream,
    )
    app.include_router(api.router())
    return app
