"""The one place that wires notify together."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from services.notify.api import StreamConfig, build_router
from services.notify.channels import (
    EmailSender,
    Sender,
    SmsGatewaySender,
    SmtpConfig,
    WebhookSender,
)
from services.notify.domain.delivery import RetryPolicy, UnsubscribeTokens
from services.notify.domain.model import Channel
from services.notify.handlers import EventHandlers, HandlerConfig
from services.notify.metrics import NotifyMetrics, RecordedCounter
from services.notify.rendering import Renderer
from services.notify.settings import NotifySettings
from services.notify.store import INDEXES, NotifyStore
from services.notify.stream import StatusHub, StreamLimit
from services.notify.worker import DeliveryWorker, WorkerConfig
from shared.auth import AuthConfig, TokenCodec, principal_dependency
from shared.consumer import session_handler
from shared.crypto import PiiBox
from shared.events import REPORT_TOPICS, Topic
from shared.http import create_app
from shared.runtime import Runtime

log = logging.getLogger(__name__)


def build_senders(settings: NotifySettings) -> tuple[dict[Channel, Sender], dict[Channel, str]]:
    """The enabled senders, and why each other channel is off."""
    senders: dict[Channel, Sender] = {
        Channel.WEBHOOK: WebhookSender(settings.webhook_secret, settings.webhook_timeout_s)
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
            )
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


def build_app(settings: NotifySettings) -> FastAPI:
    runtime = Runtime(settings, INDEXES)
    store = NotifyStore(runtime.db)
    box = PiiBox(settings.pii_key)
    tokens = UnsubscribeTokens(settings.unsubscribe_secret)
    senders, disabled = build_senders(settings)
    metrics = NotifyMetrics(runtime.metrics.registry)
    worker = DeliveryWorker(
        store,
        senders,
        Renderer(),
        box,
        tokens,
        RetryPolicy(
            max_attempts=settings.delivery_max_attempts,
            base_s=settings.delivery_backoff_base_s,
            max_delay_s=settings.delivery_backoff_max_s,
        ),
        metrics,
        WorkerConfig(
            public_base_url=settings.public_base_url.rstrip("/"),
            poll_interval_s=settings.delivery_poll_interval_s,
            lease_s=settings.delivery_lease_s,
            batch_size=settings.delivery_batch_size,
            sms_max_chars=settings.sms_max_chars,
        ),
    )
    handlers = EventHandlers(
        store,
        box,
        tokens,
        HandlerConfig(
            settings.ioc_agency_id,
            settings.report_url_template,
            disabled,
            settings.catalog_backfill_hours,
        ),
        worker.wake,
        RecordedCounter(metrics),
    )
    # One Kafka consumer for all topics: one group join instead of thirteen.
    subscriptions = {str(topic): handlers.for_topic(topic) for topic in REPORT_TOPICS}
    subscriptions[Topic.JURISDICTION_CATALOG] = handlers.on_catalog
    runtime.consumer.subscribe_many(
        {t: session_handler(h) for t, h in (subscriptions).items()},
        title="notify:report.*+jurisdiction.catalog",
    )
    runtime.add_loop(worker.run)
    hub = StatusHub(store, settings.sse_poll_interval_s)
    limit = StreamLimit(settings.sse_max_streams, metrics.sse_streams.set)
    runtime.add_loop(hub.run)

    auth = principal_dependency(TokenCodec(AuthConfig(secret=settings.jwt_secret)))
    channels: dict[Channel, str | None] = {Channel.LOG: None}
    channels |= {ch: disabled.get(ch) for ch in (Channel.EMAIL, Channel.WEBHOOK, Channel.SMS)}

    @asynccontextmanager
    async def report_channels(_: FastAPI) -> AsyncIterator[None]:
        for channel, why in disabled.items():  # logged once logging is configured
            log.warning("%s channel disabled: %s", channel.value, why)
        # httpx logs every request URL at INFO; agency webhook URLs may embed their secrets.
        logging.getLogger("httpx").setLevel(logging.WARNING)
        yield

    app = create_app(
        runtime,
        lifespan=report_channels,
        title="notify",
        description="Tells residents, agencies and IOC operators about reports; delivery log; "
        "live status stream (Server-Sent Events).",
    )
    app.include_router(
        build_router(
            store,
            tokens,
            auth,
            channels,
            StreamConfig(settings.sse_keepalive_s),
            hub,
            runtime.stopping,
            limit,
        )
    )
    return app
