"""The delivery worker: claims due deliveries in batches with a lease, sends them outside any
transaction, and records the outcomes: pending → sent, or failed (next attempt stored) → ... →
dead."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from services.notify.domain.delivery import RetryPolicy, UnsubscribeTokens, sent, skipped
from services.notify.domain.model import (
    Channel,
    Claimed,
    Delivery,
    DeliveryStatus,
    Lease,
    Outcome,
)
from services.notify.domain.sending import DeliveryError, Sender
from services.notify.metrics import NotifyMetrics
from services.notify.rendering import Renderer
from services.notify.usecases.messages import Messages
from services.notify.usecases.ports import Preferences, Queue
from shared.aio import wait_any
from shared.crypto import PiiBox

log = logging.getLogger(__name__)

HANDOFF_ROUNDS = 3  # at most this many batches handed over and waiting; more are claimed
MAX_BACKOFF_S = 5.0  # while the database fails: retry soon, then at most this often
STOP_GRACE_S = 5.0  # at shutdown, how long rounds still sending may take to record outcomes

# One attempt: None when it went out, the error when it did not, or the outcome of a delivery
# settled without an attempt (channel off, address unsubscribed).
Result = Outcome | DeliveryError | None


def default_concurrency() -> dict[Channel, int]:
    return {Channel.EMAIL: 8, Channel.WEBHOOK: 16, Channel.SMS: 8}


@dataclass(frozen=True)
class WorkerConfig:
    public_base_url: str
    poll_interval_s: float = 30.0  # safety net; also how far ahead a claim looks for the next
    lease_s: float = 60.0
    batch_size: int = 100
    sms_max_chars: int = 480
    concurrency: dict[Channel, int] = field(default_factory=default_concurrency)  # per channel
    gauges_interval_s: float = 30.0
    # A round records what it sent after at most this long and the next one starts; what is
    # still sending (a peer that answers only at its timeout) is recorded when it ends.
    patience_s: float = 2.0


class DeliveryWorker:
    """Rounds: take a batch of deliveries, send them concurrently within each channel's limit,
    record the outcomes (one bulk write, while the next round sends).

    A batch is what the consumer of this process handed over (recorded under the worker's
    lease: no claim needed), else a claim of due deliveries (one read, one lease write). Woken
    by a commit that stored pending deliveries; otherwise it sleeps until the next delivery
    falls due (the claim's read says when), at most `poll_interval_s`."""

    def __init__(
        self,
        queue: Queue,
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
        self.queue = queue
        self.preferences = preferences
        self.senders = senders
        self.messages = Messages(
            renderer, box, tokens, config.public_base_url, config.sms_max_chars
        )
        self.policy = policy
        self.metrics = metrics
        self.config = config
        self.clock = clock
        self._limits = {ch: asyncio.Semaphore(n) for ch, n in config.concurrency.items()}
        self._sending: set[asyncio.Task[None]] = set()
        self._writing: asyncio.Task[None] | None = None  # a round's outcomes being recorded
        self._handed: deque[tuple[Lease, list[Delivery]]] = deque()
        self.owner = uuid.uuid4().hex
        self._wake = asyncio.Event()
        self._claim_wanted = True  # a claim at the next round (at start, or woken to claim)
        self._claim_at: datetime | None = None  # when the next claim is due, else
        self._gauges_due = 0.0
        self._adopted = False

    def wake(self) -> None:
        """Called once a unit of work that stored pending deliveries has committed: claims."""
        self._claim_wanted = True
        self._wake.set()

    def lease(self) -> Lease | None:
        """A lease under which a batch about to be recorded stores its pending deliveries, for
        this worker to send them after the commit without claiming them (`hand_over`). None
        while it holds enough handed over: they are left to the claims then."""
        if sum(len(held) for _, held in self._handed) >= HANDOFF_ROUNDS * self.config.batch_size:
            return None
        until = self.clock() + timedelta(seconds=self.config.lease_s)
        return Lease(f"{self.owner}:{uuid.uuid4().hex}", until)

    def hand_over(self, lease: Lease, deliveries: list[Delivery]) -> None:
        """Deliveries stored held by `lease`, committed: sent by the next rounds."""
        if deliveries:
            self._handed.append((lease, list(deliveries)))
            self._wake.set()

    async def run(self, stop: asyncio.Event) -> None:
        """Works until `stop`: a round, then a pause until woken or the next one is due."""
        backoff = 0.0
        while not stop.is_set():
            self._wake.clear()
            try:
                pause = await self._step()
                backoff = 0.0
            except Exception as exc:
                log.warning("delivery worker: %s", type(exc).__name__)
                pause = backoff = min(max(backoff * 2, 0.5), MAX_BACKOFF_S)
            if pause > 0:
                await wait_any(self._wake, stop, timeout=pause)
        if self._sending:  # let them record what they sent (a lease left behind expires)
            await asyncio.wait(self._sending, timeout=STOP_GRACE_S)
        with contextlib.suppress(Exception):
            await self._written()
        for sender in self.senders.values():  # their HTTP connections
            with contextlib.suppress(Exception):
                await sender.aclose()

    async def work_once(self) -> int:
        """One round, start to end; returns how many deliveries it attempted."""
        claimed = self._take_handed() or await self._claim()
        if claimed.deliveries:
            await self._deliver(claimed, patience=None)
        await self._written()
        return len(claimed.deliveries)

    async def _step(self) -> float:
        """One round (what is still sending after `patience_s` is left to finish on its own);
        returns how long to pause."""
        if not self._adopted:
            if adopted := await self.queue.adopt_legacy():
                log.info("%d deliveries of an earlier version queued by claimable time", adopted)
            self._adopted = True
        claimed = self._take_handed()
        if claimed is None and self._claim_due():
            self._claim_wanted = False
            claimed = await self._claim()
            after = timedelta(seconds=self.config.poll_interval_s)
            self._claim_at = claimed.next_due or self.clock() + after
        if claimed is not None and claimed.deliveries:
            await self._deliver(claimed, patience=self.config.patience_s)
        if time.monotonic() >= self._gauges_due:
            self.metrics.set_queue(await self.queue.queue_depths())
            self._gauges_due = time.monotonic() + self.config.gauges_interval_s
        if self._handed or self._claim_due():
            return 0.0
        pause = min(self.config.poll_interval_s, self._gauges_due - time.monotonic())
        if self._claim_at is not None:
            pause = min(pause, (self._claim_at - self.clock()).total_seconds())
        return max(pause, 0.0)

    def _claim_due(self) -> bool:
        """A handed-over round is no reason to claim: the last claim said when the next one
        falls due (at most `poll_interval_s` later), and a wake-up asks for one sooner."""
        return self._claim_wanted or self._claim_at is None or self.clock() >= self._claim_at

    def _take_handed(self) -> Claimed | None:
        """Up to a batch of the deliveries handed over, unless their lease is half gone (those
        are claimed again once it ends)."""
        now, batch = self.clock(), self.config.batch_size
        while self._handed:
            lease, held = self._handed[0]
            if (lease.until - now).total_seconds() < self.config.lease_s / 2:
                self._handed.popleft()
                continue
            if len(held) > batch:
                self._handed[0] = (lease, held[batch:])
            else:
                self._handed.popleft()
            return Claimed(lease.owner, held[:batch], None, handed=True)
        return None

    async def _claim(self) -> Claimed:
        c = self.config
        lease, look_ahead = timedelta(seconds=c.lease_s), timedelta(seconds=c.poll_interval_s)
        return await self.queue.claim(self.clock(), lease, c.batch_size, look_ahead)

    async def _deliver(self, claimed: Claimed, patience: float | None) -> None:
        """Sends a claimed batch concurrently and records the outcomes of those done within
        `patience` seconds together; the others are recorded together when they are done."""
        if self._writing is not None and self._writing.done():
            await self._written()  # raises if the last round's outcomes were not recorded
        # Handed over: recorded by a unit of work that read the preferences a moment ago.
        keys = [d.address_key for d in claimed.deliveries if d.address_key]
        recheck = keys and not claimed.handed
        blocked = await self.preferences.any_unsubscribed(keys) if recheck else set()
        tasks = {asyncio.create_task(self._attempt(d, blocked)): d for d in claimed.deliveries}
        done, late = await asyncio.wait(tasks, timeout=patience)
        await self._written()  # one write at a time; the next round sends while this one runs
        results = [(tasks[t], t.result()) for t in done]
        self._writing = asyncio.create_task(self._record(claimed.token, results))
        if late:
            rest = {t: tasks[t] for t in late}
            task = asyncio.create_task(self._record_late(claimed.token, rest))
            self._sending.add(task)
            task.add_done_callback(self._sending.discard)

    async def _written(self) -> None:
        """Waits for the outcomes being recorded. If that failed (their leases expire, and they
        are tried again), what was handed over is left to the claims as well, and the error
        raised: the loop backs off, and nothing is sent until the database answers again."""
        writing, self._writing = self._writing, None
        if writing is None:
            return
        try:
            await writing
        except Exception:
            self._handed.clear()
            raise

    async def _record_late(self, token: str, late: dict[asyncio.Task[Result], Delivery]) -> None:
        await asyncio.wait(late)
        try:
            await self._record(token, [(d, t.result()) for t, d in late.items()])
        except Exception as exc:  # their leases expire, and they are tried again
            log.warning("delivery worker: %s", type(exc).__name__)

    async def _record(self, token: str, results: list[tuple[Delivery, Result]]) -> None:
        """Writes the outcomes of attempts (one time for all: they are written together)."""
        if not results:
            return
        now = self.clock()
        outcomes = [(d, self._outcome(d, r, now)) for d, r in results]
        await self.queue.finish(token, outcomes)
        for delivery, outcome in outcomes:
            self._count(delivery, outcome)
        retries = [o.next_attempt_at for _, o in outcomes if o.next_attempt_at is not None]
        if retries:  # wake for the first retry, should nothing else wake the worker before
            delay = (min(retries) - self.clock()).total_seconds()
            asyncio.get_running_loop().call_later(max(delay, 0.0), self.wake)

    async def _attempt(self, delivery: Delivery, blocked: set[str]) -> Result:
        done = delivery.attempts
        sender = self.senders.get(delivery.channel)
        if sender is None:
            return skipped(done, "channel disabled")
        if delivery.address_key and delivery.address_key in blocked:
            return skipped(done, "unsubscribed")
        try:
            async with self._limits.get(delivery.channel) or contextlib.nullcontext():
                await sender.send(self.messages.of(delivery))
        except DeliveryError as exc:
            return exc
        except Exception as exc:  # a bug or a broken template: keep the schedule, say what
            return DeliveryError(f"internal error: {type(exc).__name__}")
        return None

    def _outcome(self, delivery: Delivery, result: Result, now: datetime) -> Outcome:
        if isinstance(result, Outcome):
            return result
        attempts = delivery.attempts + 1
        if result is None:
            return sent(attempts, now)
        outcome = self.policy.failed(attempts, str(result), now, permanent=result.permanent)
        log.info(
            "delivery %s %s after attempt %d: %s",
            delivery.id,
            outcome.status.value,
            attempts,
            result,
            extra={"report_id": delivery.news.report_id, "channel": delivery.channel.value},
        )
        return outcome

    def _count(self, delivery: Delivery, outcome: Outcome) -> None:
        channel = delivery.channel.value
        self.metrics.delivered.labels(channel, outcome.status.value).inc()
        if outcome.status is DeliveryStatus.SENT and outcome.sent_at is not None:
            waited = max((outcome.sent_at - delivery.created_at).total_seconds(), 0.0)
            self.metrics.latency.labels(channel).observe(waited)
