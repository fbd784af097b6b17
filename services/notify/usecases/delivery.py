"""The delivery worker: claims due deliveries with a lease, sends them outside any transaction,
and records each outcome: pending → sent, or failed (next attempt stored) → ... → dead."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from services.notify.domain.delivery import (
    RetryPolicy,
    UnsubscribeTokens,
    fit_sms,
    sent,
    skipped,
)
from services.notify.domain.model import Channel, Delivery, Outcome, RecipientKind
from services.notify.domain.sending import DeliveryError, Message, Sender
from services.notify.metrics import NotifyMetrics
from services.notify.rendering import Rendered, Renderer
from services.notify.usecases.ports import Deliveries, Preferences
from shared.aio import wait_any
from shared.crypto import PiiBox

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class WorkerConfig:
    public_base_url: str
    poll_interval_s: float = 2.0
    lease_s: float = 60.0
    batch_size: int = 20
    sms_max_chars: int = 480


class DeliveryWorker:
    def __init__(
        self,
        deliveries: Deliveries,
        preferences: Preferences,
        senders: dict[Channel, Sender],
        renderer: Renderer,
        box: PiiBox,
        tokens: UnsubscribeTokens,
        policy: RetryPolicy,
        metrics: NotifyMetrics,
        config: WorkerConfig,
        clock: Callable[[], datetime],
    ) -> None:
        self.deliveries = deliveries
        self.preferences = preferences
        self.senders = senders
        self.renderer = renderer
        self.box = box
        self.tokens = tokens
        self.policy = policy
        self.metrics = metrics
        self.config = config
        self.clock = clock
        self.owner = uuid.uuid4().hex
        self._wake = asyncio.Event()

    def wake(self) -> None:
        """Called by the event handler inside its transaction: look again once it has committed."""
        loop = asyncio.get_running_loop()
        loop.call_later(0.2, self._wake.set)

    async def run(self, stop: asyncio.Event) -> None:
        """Works until `stop`: a batch at a time, pausing when there was less than a batch."""
        while not stop.is_set():
            claimed = 0
            try:
                claimed = await self.work_once()
                self.metrics.set_queue(await self.deliveries.queue_depths())
            except Exception as exc:
                log.warning("delivery worker: %s", type(exc).__name__)
            if claimed < self.config.batch_size:
                await wait_any(self._wake, stop, timeout=self.config.poll_interval_s)
                self._wake.clear()

    async def work_once(self) -> int:
        """Claims up to a batch of due deliveries and sends them concurrently."""
        lease = timedelta(seconds=self.config.lease_s)
        claimed: list[Delivery] = []
        for _ in range(self.config.batch_size):
            delivery = await self.deliveries.claim_due(self.owner, self.clock(), lease)
            if delivery is None:
                break
            claimed.append(delivery)
        await asyncio.gather(*(self.deliver(d) for d in claimed))
        return len(claimed)

    async def deliver(self, delivery: Delivery) -> None:
        """One attempt at one claimed delivery, and its outcome recorded."""
        done = delivery.attempts
        sender = self.senders.get(delivery.channel)
        if sender is None:
            await self._finish(delivery, skipped(done, "channel disabled"))
            return
        if delivery.address_key and await self.preferences.unsubscribed(delivery.address_key):
            await self._finish(delivery, skipped(done, "unsubscribed"))
            return
        try:
            await sender.send(self.message(delivery))
        except DeliveryError as exc:
            await self._failed(delivery, str(exc), permanent=exc.permanent)
        except Exception as exc:  # a bug or a broken template: keep the schedule, say what
            await self._failed(delivery, f"internal error: {type(exc).__name__}")
        else:
            now = self.clock()
            await self._finish(delivery, sent(done + 1, now))
            waited = max((now - delivery.created_at).total_seconds(), 0.0)
            self.metrics.latency.labels(delivery.channel.value).observe(waited)

    def message(self, delivery: Delivery) -> Message:
        """The message of one delivery: its address opened, its template rendered."""
        channel = delivery.channel
        assert delivery.address_sealed is not None  # only the log channel has none
        address = str(self.box.open(delivery.address_sealed, aad=delivery.id))
        unsubscribe = None
        # Every email carries the link; an SMS when its address can unsubscribe (residents).
        if channel is Channel.EMAIL or (channel is Channel.SMS and delivery.address_key):
            token = self.tokens.issue(channel, address)
            unsubscribe = f"{self.config.public_base_url}/api/v1/unsubscribe?token={token}"
        context = {**delivery.news.context, "unsubscribe_url": unsubscribe}
        rendered = self.renderer.render(delivery.news.template, delivery.language, context)
        return Message(
            delivery_id=delivery.id,
            channel=channel,
            address=address,
            subject=rendered.subject,
            text=self._text(channel, rendered),
            html=rendered.html,
            payload=webhook_body(delivery, rendered),
            unsubscribe_url=unsubscribe,
        )

    def _text(self, channel: Channel, rendered: Rendered) -> str:
        if channel is Channel.EMAIL:
            return rendered.email_text
        if channel is Channel.SMS:
            return fit_sms(rendered.text, rendered.sms_footer, self.config.sms_max_chars)
        return rendered.text

    async def _failed(self, delivery: Delivery, error: str, *, permanent: bool = False) -> None:
        attempts = delivery.attempts + 1
        outcome = self.policy.failed(attempts, error, self.clock(), permanent=permanent)
        await self._finish(delivery, outcome)
        log.info(
            "delivery %s %s after attempt %d: %s",
            delivery.id,
            outcome.status.value,
            attempts,
            error,
            extra={"report_id": delivery.news.report_id, "channel": delivery.channel.value},
        )

    async def _finish(self, delivery: Delivery, outcome: Outcome) -> None:
        await self.deliveries.finish(delivery.id, self.owner, outcome)
        self.metrics.delivered.labels(delivery.channel.value, outcome.status.value).inc()


def webhook_body(delivery: Delivery, rendered: Rendered) -> dict[str, Any]:
    """The JSON a webhook receives (services/notify/README.md, "Webhook signature")."""
    news = delivery.news
    staff = delivery.recipient_kind is not RecipientKind.RESIDENT
    return {
        "id": delivery.id,
        "type": news.event_type,
        "event_id": news.event_id,
        "report_id": news.report_id,
        "recipient_kind": delivery.recipient_kind.value,
        "agency_id": delivery.recipient_id if staff else None,
        "language": delivery.language,
        "summary": rendered.subject,
        "text": rendered.text,
        "data": news.context,
    }
