"""The delivery worker against fake stores and fake senders. No I/O."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from prometheus_client import CollectorRegistry

from services.notify.domain.delivery import RetryPolicy
from services.notify.domain.model import (
    Channel,
    Delivery,
    DeliveryStatus,
    News,
    RecipientKind,
)
from services.notify.domain.sending import DeliveryError, Message, Sender
from services.notify.metrics import NotifyMetrics
from services.notify.rendering import Renderer
from services.notify.usecases.delivery import DeliveryWorker, WorkerConfig
from shared.events import utcnow
from tests.notify.fakes import BOX, TOKENS, FakeDeliveries, FakePreferences

NOW = utcnow()


class FakeSender:
    def __init__(self, *failures: DeliveryError) -> None:
        self.failures = list(failures)
        self.sent: list[Message] = []

    async def send(self, message: Message) -> None:
        if self.failures:
            raise self.failures.pop(0)
        self.sent.append(message)

    async def aclose(self) -> None:
        pass


class Rig:
    def __init__(
        self,
        *,
        clock: Callable[[], datetime] = lambda: NOW,
        policy: RetryPolicy | None = None,
        **options: Any,
    ) -> None:
        senders: dict[Channel, Sender] = {
            Channel(k): v for k, v in options.items() if isinstance(v, FakeSender)
        }
        config = {k: v for k, v in options.items() if not isinstance(v, FakeSender)}
        self.deliveries = FakeDeliveries()
        self.preferences = FakePreferences()
        self.registry = CollectorRegistry()
        self.clock = clock
        self.worker = DeliveryWorker(
            self.deliveries,
            self.preferences,
            senders,
            Renderer(),
            BOX,
            TOKENS,
            policy or RetryPolicy(max_attempts=3, base_s=60),
            NotifyMetrics(self.registry),
            WorkerConfig(public_base_url="https://notify", **config),
            clock,
        )

    async def add(self, channel: Channel, address: str, **fields: Any) -> Delivery:
        did = f"d{len(self.deliveries.items)}"
        news = News("e1", "report.assigned", "k", "r1", "agency/assigned", {"report_id": "r1"})
        now = self.clock()
        delivery = Delivery(
            did, news, RecipientKind.AGENCY, "roads", "***", channel, BOX.seal(address, aad=did),
            None, "vi", DeliveryStatus.PENDING, None, 0, now - timedelta(seconds=1),
            now - timedelta(seconds=30), None,
        )  # fmt: skip
        delivery = replace(delivery, **fields)
        await self.deliveries.record(delivery)
        return delivery

    def stored(self, delivery: Delivery) -> Delivery:
        return self.deliveries.items[delivery.id]

    def counted(self, channel: str, outcome: str) -> float | None:
        labels = {"channel": channel, "outcome": outcome}
        return self.registry.get_sample_value("notifications_delivered_total", labels)


async def test_sent_delivery_records_its_attempt_and_time() -> None:
    rig = Rig(webhook=FakeSender())
    d = await rig.add(Channel.WEBHOOK, "https://hooks.example/roads")
    assert await rig.worker.work_once() == 1
    after = rig.stored(d)
    assert (after.status, after.attempts, after.sent_at) == (DeliveryStatus.SENT, 1, NOW)


async def test_webhook_receives_the_opened_address_and_the_documented_body() -> None:
    sender = FakeSender()
    rig = Rig(webhook=sender)
    await rig.add(Channel.WEBHOOK, "https://hooks.example/roads")
    await rig.worker.work_once()
    [message] = sender.sent
    assert message.address == "https://hooks.example/roads"
    assert set(message.payload) == {
        "id", "type", "event_id", "report_id", "recipient_kind", "agency_id", "language",
        "summary", "text", "data",
    }  # fmt: skip
    assert (message.payload["agency_id"], message.unsubscribe_url) == ("roads", None)


async def test_failed_attempt_schedules_the_next_one() -> None:
    rig = Rig(webhook=FakeSender(DeliveryError("webhook answered HTTP 500")))
    d = await rig.add(Channel.WEBHOOK, "https://hooks.example/roads")
    await rig.worker.work_once()
    after = rig.stored(d)
    assert (after.status, after.attempts) == (DeliveryStatus.FAILED, 1)
    assert (after.next_attempt_at, after.last_error) == (
        NOW + timedelta(seconds=60),
        "webhook answered HTTP 500",
    )


async def test_permanent_refusal_is_dead_at_once() -> None:
    rig = Rig(webhook=FakeSender(DeliveryError("webhook answered HTTP 404", permanent=True)))
    d = await rig.add(Channel.WEBHOOK, "https://hooks.example/roads")
    await rig.worker.work_once()
    assert (rig.stored(d).status, rig.stored(d).attempts) == (DeliveryStatus.DEAD, 1)


async def test_last_failed_attempt_is_dead() -> None:
    rig = Rig(webhook=FakeSender(DeliveryError("timeout")))
    d = await rig.add(Channel.WEBHOOK, "https://h", status=DeliveryStatus.FAILED, attempts=2)
    await rig.worker.work_once()
    assert (rig.stored(d).status, rig.stored(d).attempts) == (DeliveryStatus.DEAD, 3)


async def test_broken_template_keeps_the_schedule_and_says_what() -> None:
    rig = Rig(webhook=FakeSender())
    d = await rig.add(Channel.WEBHOOK, "https://h")
    rig.deliveries.items[d.id] = replace(d, news=replace(d.news, template="agency/nope"))
    await rig.worker.work_once()
    after = rig.stored(d)
    assert (after.status, after.last_error) == (
        DeliveryStatus.FAILED,
        "internal error: TemplateNotFound",
    )


async def test_channel_without_sender_is_skipped_without_an_attempt() -> None:
    rig = Rig()
    d = await rig.add(Channel.SMS, "+84901112233")
    await rig.worker.work_once()
    after = rig.stored(d)
    assert (after.status, after.attempts, after.last_error) == (
        DeliveryStatus.SKIPPED,
        0,
        "channel disabled",
    )


async def test_address_unsubscribed_since_recording_is_skipped_at_send_time() -> None:
    sender = FakeSender()
    rig = Rig(email=sender)
    d = await rig.add(Channel.EMAIL, "n@example.org", address_key="k1")
    await rig.preferences.unsubscribe("k1", Channel.EMAIL, NOW)
    await rig.worker.work_once()
    assert (rig.stored(d).status, rig.stored(d).last_error) == (
        DeliveryStatus.SKIPPED,
        "unsubscribed",
    )
    assert sender.sent == []


async def test_email_carries_an_unsubscribe_link_for_its_address() -> None:
    sender = FakeSender()
    rig = Rig(email=sender)
    await rig.add(Channel.EMAIL, "n@example.org", address_key="k1")
    await rig.worker.work_once()
    [message] = sender.sent
    token = TOKENS.issue(Channel.EMAIL, "n@example.org")
    assert message.unsubscribe_url == f"https://notify/api/v1/unsubscribe?token={token}"
    assert message.unsubscribe_url in message.text


async def test_delivery_not_yet_due_is_not_claimed() -> None:
    rig = Rig(webhook=FakeSender())
    await rig.add(Channel.WEBHOOK, "https://h", next_attempt_at=NOW + timedelta(minutes=1))
    assert await rig.worker.work_once() == 0


async def test_outcomes_are_counted_by_channel_and_outcome() -> None:
    rig = Rig(webhook=FakeSender(DeliveryError("x")))
    await rig.add(Channel.WEBHOOK, "https://h")
    await rig.add(Channel.WEBHOOK, "https://h")
    await rig.worker.work_once()
    assert (rig.counted("webhook", "failed"), rig.counted("webhook", "sent")) == (1.0, 1.0)


async def test_successful_sending_observes_the_latency_since_recording() -> None:
    rig = Rig(webhook=FakeSender())
    await rig.add(Channel.WEBHOOK, "https://h")
    await rig.worker.work_once()
    total = rig.registry.get_sample_value(
        "notification_delivery_latency_seconds_sum", {"channel": "webhook"}
    )
    assert total == 30.0
