"""The delivery worker's rounds and its loop: batches, per-channel limits, slow peers, wake-ups,
sleeping until the next delivery is due. Fakes and the real clock, no I/O."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest

from services.notify.domain.delivery import RetryPolicy
from services.notify.domain.model import Channel, DeliveryStatus
from services.notify.domain.sending import DeliveryError, Message
from shared.events import utcnow
from tests.notify.fakes import Held
from tests.notify.usecases.test_delivery import FakeSender, Rig
from tests.support import eventually


class SlowSender(FakeSender):
    """Holds every message until `release` is set; tracks how many it holds at once."""

    def __init__(self, hold: Callable[[Message], bool] = lambda _: True) -> None:
        super().__init__()
        self.hold = hold
        self.release = asyncio.Event()
        self.in_flight = 0
        self.most = 0

    async def send(self, message: Message) -> None:
        self.in_flight += 1
        self.most = max(self.most, self.in_flight)
        try:
            if self.hold(message):
                await self.release.wait()
            else:
                await asyncio.sleep(0.01)
        finally:
            self.in_flight -= 1
        await super().send(message)


@asynccontextmanager
async def running(rig: Rig) -> AsyncIterator[None]:
    stop = asyncio.Event()
    task = asyncio.create_task(rig.worker.run(stop))
    try:
        yield
    finally:
        stop.set()
        await task


def live(**options: Any) -> Rig:
    return Rig(clock=utcnow, poll_interval_s=30.0, **options)


async def test_one_claim_takes_the_whole_batch() -> None:
    rig = Rig(webhook=FakeSender())
    for _ in range(5):
        await rig.add(Channel.WEBHOOK, "https://h")
    assert await rig.worker.work_once() == 5
    assert rig.deliveries.claims == 1


async def test_a_full_batch_is_followed_by_another_at_once() -> None:
    sender = FakeSender()
    rig = live(webhook=sender, batch_size=2)
    for _ in range(5):
        await rig.add(Channel.WEBHOOK, "https://h")
    async with running(rig):
        await eventually(lambda: _at_least(sender, 5), timeout=5, what="all sent")


async def test_each_channel_sends_at_most_its_limit_at_once() -> None:
    sender = SlowSender(hold=lambda _: False)
    rig = Rig(webhook=sender, concurrency={Channel.WEBHOOK: 2})
    for _ in range(6):
        await rig.add(Channel.WEBHOOK, "https://h")
    assert await rig.worker.work_once() == 6
    assert (sender.most, len(sender.sent)) == (2, 6)


async def test_a_slow_peer_does_not_hold_back_the_next_round() -> None:
    slow = SlowSender()
    fast = FakeSender()
    rig = live(webhook=slow, email=fast, patience_s=0.05)
    held = await rig.add(Channel.WEBHOOK, "https://slow")
    quick = await rig.add(Channel.EMAIL, "a@example.org")
    async with running(rig):
        await eventually(lambda: _status(rig, quick, DeliveryStatus.SENT), timeout=5)
        later = await rig.add(Channel.EMAIL, "b@example.org")
        rig.worker.wake()
        await eventually(lambda: _status(rig, later, DeliveryStatus.SENT), timeout=5)
        assert rig.stored(held).status is DeliveryStatus.PENDING  # still sending, still leased
        slow.release.set()
        await eventually(lambda: _status(rig, held, DeliveryStatus.SENT), timeout=5)


async def test_idle_worker_reads_the_queue_once_per_safety_net_interval() -> None:
    rig = live(webhook=FakeSender())
    async with running(rig):
        await asyncio.sleep(0.3)
    assert rig.deliveries.claims == 1


async def test_a_wake_up_sends_new_deliveries_at_once() -> None:
    sender = FakeSender()
    rig = live(webhook=sender)
    async with running(rig):
        await eventually(lambda: _claimed(rig, 1), timeout=5)
        await rig.add(Channel.WEBHOOK, "https://h")
        rig.worker.wake()
        await eventually(lambda: _at_least(sender, 1), timeout=5, what="sent")


async def test_the_worker_sleeps_until_the_next_delivery_is_due() -> None:
    sender = FakeSender()
    rig = live(webhook=sender)
    await rig.add(Channel.WEBHOOK, "https://h", next_attempt_at=utcnow() + timedelta(seconds=0.3))
    async with running(rig):
        await eventually(lambda: _at_least(sender, 1), timeout=5, what="sent when due")
    assert rig.deliveries.claims == 2  # at start (not due yet), then when due


async def test_a_failed_attempt_is_retried_when_due_without_another_wake_up() -> None:
    sender = FakeSender(DeliveryError("webhook answered HTTP 500"))
    rig = live(webhook=sender, policy=RetryPolicy(max_attempts=3, base_s=0.2))
    d = await rig.add(Channel.WEBHOOK, "https://h")
    async with running(rig):
        await eventually(lambda: _status(rig, d, DeliveryStatus.SENT), timeout=5, what="retried")
    assert rig.stored(d).attempts == 2


async def _at_least(sender: FakeSender, n: int) -> bool:
    return len(sender.sent) >= n


async def _claimed(rig: Rig, n: int) -> bool:
    return rig.deliveries.claims >= n


async def _status(rig: Rig, d: Any, status: DeliveryStatus) -> bool:
    return rig.stored(d).status is status


async def _handed(rig: Rig, n: int, *, lease_left_s: float = 60) -> list[Any]:
    """`n` deliveries recorded held by a lease of the worker, and handed over to it."""
    lease = rig.worker.lease()
    assert lease is not None
    lease = replace(lease, until=rig.clock() + timedelta(seconds=lease_left_s))
    added = [await rig.add(Channel.WEBHOOK, "https://h") for _ in range(n)]
    for d in added:
        rig.deliveries.leases[d.id] = Held(lease.owner, lease.until)
    rig.worker.hand_over(lease, added)
    return added


async def test_deliveries_handed_over_are_sent_without_a_claim() -> None:
    sender = FakeSender()
    rig = Rig(webhook=sender)
    handed = await _handed(rig, 3)
    assert await rig.worker.work_once() == 3
    assert rig.deliveries.claims == 0
    assert {rig.stored(d).status for d in handed} == {DeliveryStatus.SENT}


async def test_deliveries_handed_over_with_half_their_lease_gone_wait_for_a_claim() -> None:
    sender = FakeSender()
    rig = live(webhook=sender, lease_s=60)
    [late] = await _handed(rig, 1, lease_left_s=0.3)  # claimable again in 0.3 s
    async with running(rig):
        await eventually(lambda: _status(rig, late, DeliveryStatus.SENT), timeout=5)
    assert rig.deliveries.claims >= 2  # not due at first, then claimed once the lease ended


async def test_a_worker_holding_enough_handed_over_asks_for_no_more() -> None:
    rig = Rig(webhook=FakeSender(), batch_size=2)
    await _handed(rig, 6)
    assert rig.worker.lease() is None
    await rig.worker.work_once()
    assert rig.worker.lease() is not None


async def test_outcomes_not_recorded_stop_the_sending_of_what_was_handed_over() -> None:
    sender = FakeSender()
    rig = Rig(webhook=sender, batch_size=1)
    await _handed(rig, 3)

    async def broken(token: str, outcomes: Any) -> None:
        raise ConnectionError("database unreachable")

    rig.deliveries.finish = broken  # type: ignore[method-assign]
    with pytest.raises(ConnectionError):
        await rig.worker.work_once()
    assert len(sender.sent) == 1
    assert rig.worker.lease() is not None  # the rest is left to the claims (after the leases)
    assert await rig.worker.work_once() == 0
