"""The delivery worker: claims due deliveries with a lease, sends them outside any transaction,
and moves each one pending → sent, or failed (next attempt stored) → ... → dead."""

from __future__ import annotations

import asyncio
import logging
import uuid
from dataclasses import dataclass
from datetime import timedelta

from services.notify.channels import DeliveryError, Message, Sender
from services.notify.domain.delivery import RetryPolicy, UnsubscribeTokens, fit_sms
from services.notify.domain.model import Channel, DeliveryStatus
from services.notify.metrics import NotifyMetrics
from services.notify.rendering import Renderer
from services.notify.store import NotifyStore
from shared.aio import wait_any
from shared.crypto import PiiBox
from shared.events import utcnow
from shared.mongo import Document

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
        store: NotifyStore,
        senders: dict[Channel, Sender],
        renderer: Renderer,
        box: PiiBox,
        tokens: UnsubscribeTokens,
        policy: RetryPolicy,
        metrics: NotifyMetrics,
        config: WorkerConfig,
    ) -> None:
        self.store = store
        self.senders = senders
        self.renderer = renderer
        self.box = box
        self.tokens = tokens
        self.policy = policy
        self.metrics = metrics
        self.config = config
        self.owner = uuid.uuid4().hex
        self._wake = asyncio.Event()

    def wake(self) -> None:
        """Called by the event handler inside its transaction: look again once it has committed."""
        loop = asyncio.get_running_loop()
        loop.call_later(0.2, self._wake.set)

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            claimed = 0
            try:
                claimed = await self.work_once()
                self.metrics.set_queue(await self.store.queue_depths())
            except Exception as exc:
                log.warning("delivery worker: %s", type(exc).__name__)
            if claimed < self.config.batch_size:
                await self._sleep(stop)

    async def _sleep(self, stop: asyncio.Event) -> None:
        await wait_any(self._wake, stop, timeout=self.config.poll_interval_s)
        self._wake.clear()

    async def work_once(self) -> int:
        """Claims up to a batch of due deliveries and sends them concurrently."""
        lease = timedelta(seconds=self.config.lease_s)
        claimed: list[Document] = []
        for _ in range(self.config.batch_size):
            doc = await self.store.claim_due(self.owner, utcnow(), lease)
            if doc is None:
                break
            claimed.append(doc)
        await asyncio.gather(*(self.deliver(doc) for doc in claimed))
        return len(claimed)

    async def deliver(self, doc: Document) -> None:
        channel = Channel(doc["channel"])
        attempts = int(doc.get("attempts", 0)) + 1
        sender = self.senders.get(channel)
        if sender is None:
            await self._finish(doc, DeliveryStatus.SKIPPED, attempts - 1, "channel disabled")
            return
        if doc.get("address_key") and await self.store.unsubscribed(doc["address_key"]):
            await self._finish(doc, DeliveryStatus.SKIPPED, attempts - 1, "unsubscribed")
            return
        try:
            await sender.send(self.message(doc))
        except DeliveryError as exc:
            await self._failed(doc, attempts, str(exc), permanent=exc.permanent)
        except Exception as exc:  # a bug or a broken template: keep the schedule, say what
            await self._failed(doc, attempts, f"internal error: {type(exc).__name__}")
        else:
            await self._finish(doc, DeliveryStatus.SENT, attempts, None)
            created = doc["created_at"]
            self.metrics.latency.labels(channel.value).observe(
                max((utcnow() - created).total_seconds(), 0.0)
            )

    def message(self, doc: Document) -> Message:
        channel = Channel(doc["channel"])
        address = str(self.box.open(doc["address_sealed"], aad=doc["_id"]))
        unsubscribe = None
        # Every email carries the link; an SMS when its address can unsubscribe (residents).
        if channel is Channel.EMAIL or (channel is Channel.SMS and doc.get("address_key")):
            token = self.tokens.issue(channel, address)
            unsubscribe = f"{self.config.public_base_url}/api/v1/unsubscribe?token={token}"
        context = {**doc["context"], "unsubscribe_url": unsubscribe}
        rendered = self.renderer.render(doc["template"], doc["language"], context)
        text = rendered.text
        if channel is Channel.EMAIL:
            text = rendered.email_text
        elif channel is Channel.SMS:
            text = fit_sms(rendered.text, rendered.sms_footer, self.config.sms_max_chars)
        payload = {
            "id": doc["_id"],
            "type": doc["event_type"],
            "event_id": doc["event_id"],
            "report_id": doc["report_id"],
            "recipient_kind": doc["recipient_kind"],
            "agency_id": doc["recipient_id"] if doc["recipient_kind"] != "resident" else None,
            "language": doc["language"],
            "summary": rendered.subject,
            "text": rendered.text,
            "data": doc["context"],
        }
        return Message(
            delivery_id=doc["_id"],
            channel=channel,
            address=address,
            subject=rendered.subject,
            text=text,
            html=rendered.html,
            payload=payload,
            unsubscribe_url=unsubscribe,
        )

    async def _failed(
        self, doc: Document, attempts: int, error: str, *, permanent: bool = False
    ) -> None:
        status, next_at = self.policy.after_failure(attempts, utcnow(), permanent=permanent)
        changes: Document = {"status": status.value, "attempts": attempts, "last_error": error}
        if next_at is not None:
            changes["next_attempt_at"] = next_at
        await self.store.finish(doc["_id"], self.owner, changes)
        self.metrics.delivered.labels(doc["channel"], status.value).inc()
        log.info(
            "delivery %s %s after attempt %d: %s",
            doc["_id"],
            status.value,
            attempts,
            error,
            extra={"report_id": doc["report_id"], "channel": doc["channel"]},
        )

    async def _finish(
        self, doc: Document, status: DeliveryStatus, attempts: int, reason: str | None
    ) -> None:
        changes: Document = {"status": status.value, "attempts": attempts, "last_error": reason}
        if status is DeliveryStatus.SENT:
            changes["sent_at"] = utcnow()
        await self.store.finish(doc["_id"], self.owner, changes)
        self.metrics.delivered.labels(doc["channel"], status.value).inc()
