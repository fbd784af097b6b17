"""Idempotent event consumption with retries and dead letters.

Each event's effect and its processed-event record (`inbox`, unique by event id) are written in
one MongoDB transaction; the Kafka offset is committed only after that (FastStream's
`NACK_ON_ERROR`: commit after the handler, seek back when it raises). A message that cannot be
parsed, or whose handler still fails after its attempts, goes to `<topic>.dlq` and the partition
moves on. When MongoDB itself is unreachable the message is not dead-lettered: it is left
uncommitted and redelivered.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any, NamedTuple

from faststream import AckPolicy
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage
from pydantic import ValidationError
from pymongo import IndexModel
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import ConnectionFailure, DuplicateKeyError

from shared.aio import wait_any
from shared.contract import envelope
from shared.events import CloudEvent, dlq, utcnow
from shared.logging import bind, log_context
from shared.metrics import ServiceMetrics
from shared.mongo import Document
from shared.tracing import SpanKind, span, trace_id
from shared.uow import Transactions, UnitOfWork

log = logging.getLogger(__name__)

INBOX = "inbox"
INBOX_INDEXES = {
    INBOX: [
        IndexModel(
            "processed_at",
            name="inbox_ttl",
            expireAfterSeconds=int(timedelta(days=30).total_seconds()),
        )
    ]
}

# A handler applies one event inside the consumer's unit of work (the inbox record is in it too).
Handler = Callable[[CloudEvent, UnitOfWork], Awaitable[None]]


class GroupTimeouts(NamedTuple):
    """Consumer-group timing: how soon a dead replica's partitions move to its peers."""

    session_ms: int = 10_000
    heartbeat_ms: int = 3_000
    max_poll_interval_ms: int = 30_000


class _Duplicate(Exception):
    pass


class EventConsumer:
    """Registers FastStream subscribers whose handlers run exactly once per event id."""

    def __init__(
        self,
        broker: KafkaBroker,
        transactions: Transactions,
        db: AsyncDatabase[Document],
        metrics: ServiceMetrics,
        *,
        contract: KafkaBroker,
        group_id: str,
        topic_prefix: str = "",
        max_attempts: int = 3,
        retry_backoff_s: float = 0.2,
        group_timeouts: GroupTimeouts | None = None,
    ) -> None:
        self.broker = broker
        self.contract = contract
        self.transactions = transactions
        self.db = db
        self.metrics = metrics
        self.group_id = group_id
        self.prefix = topic_prefix
        self.max_attempts = max_attempts
        self.retry_backoff_s = retry_backoff_s
        self.group_timeouts = group_timeouts or GroupTimeouts()
        self._handlers: dict[str, Handler] = {}
        self._subscribers: dict[str, Any] = {}

    def subscribe(self, topic: str, handler: Handler) -> None:
        self.subscribe_many({topic: handler})

    def subscribe_many(self, handlers: dict[str, Handler], title: str | None = None) -> None:
        """Like `subscribe` for several topics at once, through ONE Kafka consumer.

        A service that consumes many topics joins its consumer group once instead of once per
        topic (each join rebalances the whole group, which takes seconds). Same guarantees.
        The working subscriber takes raw messages (the envelope is checked here, the payload by
        the handler) and stays out of the AsyncAPI document; each topic is documented with its
        typed envelope on the never-started contract broker instead (`_document`); `title`
        names the one Kafka consumer in those entries.
        """
        full_names = [self.prefix + topic for topic in handlers]

        async def on_message(msg: KafkaMessage) -> None:
            full = str(getattr(msg.raw_message, "topic", ""))
            await self.handle(
                full.removeprefix(self.prefix), full, msg.body, msg.headers, msg.raw_message
            )

        subscriber = self.broker.subscriber(
            *full_names,
            group_id=self.group_id,
            ack_policy=AckPolicy.NACK_ON_ERROR,
            auto_offset_reset="earliest",
            session_timeout_ms=self.group_timeouts.session_ms,
            heartbeat_interval_ms=self.group_timeouts.heartbeat_ms,
            max_poll_interval_ms=self.group_timeouts.max_poll_interval_ms,
            include_in_schema=False,
        )
        subscriber(on_message)
        consumer_name = title or f"{self.group_id}:{'+'.join(handlers)}"
        for topic, handler in handlers.items():
            self._subscribers[topic] = subscriber
            self._handlers[topic] = handler
            self._document(topic, handler, consumer_name)

    def _document(self, topic: str, handler: Handler, consumer_name: str) -> None:
        """Declares `topic` on the contract broker with its typed envelope as message schema.

        FastStream takes a subscriber's message schema from its handler's parameter type, so the
        documented handler is a stub annotated with `envelope(topic)`. The contract broker is
        never connected or started: this opens no consumer and joins no group.
        """

        async def receives(event: CloudEvent) -> None:
            raise AssertionError("documentation only: the contract broker is never started")

        receives.__annotations__ = {"event": envelope(topic), "return": None}
        receives.__name__ = receives.__qualname__ = envelope(topic).__name__
        self.contract.subscriber(
            self.prefix + topic,
            group_id=self.group_id,
            title=f"{self.group_id}:{topic}:receive",  # apart from a publisher of the topic
            description=f"{handler.__doc__ or topic} (Kafka consumer `{consumer_name}`)",
        )(receives)

    async def stop(self) -> None:
        """Stops taking messages; an in-flight one is finished or abandoned uncommitted."""
        for subscriber in {id(s): s for s in self._subscribers.values()}.values():
            try:
                await subscriber.stop()
            except Exception:  # a subscriber that never started has nothing to stop
                log.debug("subscriber stop raised", exc_info=True)

    async def measure_lag(self) -> None:
        """Sets the lag gauge per topic: partition end minus this replica's position."""
        for topic, subscriber in self._subscribers.items():
            consumer = getattr(subscriber, "consumer", None)
            if consumer is None:
                continue
            lag = 0
            for tp in consumer.assignment():
                if tp.topic != self.prefix + topic:  # a subscribe_many consumer has several
                    continue
                end = consumer.highwater(tp)
                if end is not None:
                    lag += max(end - await consumer.position(tp), 0)
            self.metrics.consumer_lag.labels(topic).set(lag)

    async def lag_loop(self, stop: asyncio.Event, interval: float = 15.0) -> None:
        while not stop.is_set():
            try:
                await self.measure_lag()
            except Exception as exc:  # a rebalance can pull a partition away mid-measure
                log.debug("lag measurement skipped: %s", exc)
            await wait_any(stop, timeout=interval)

    async def handle(
        self, topic: str, full_topic: str, body: bytes, headers: dict[str, str], raw: object
    ) -> None:
        try:
            event = CloudEvent.model_validate_json(body)
        except ValidationError as exc:
            await self._dead_letter(
                full_topic, topic, body, headers, raw, f"invalid envelope: {exc}", 1
            )
            return
        token = bind(
            report_id=event.subject, event_id=event.id, trace_id=trace_id(event.traceparent)
        )
        parent = headers.get("traceparent") or event.traceparent
        try:
            with span(f"process {topic}", parent, kind=SpanKind.CONSUMER):
                await self._process(topic, full_topic, event, body, headers, raw)
        finally:
            log_context.reset(token)

    async def _process(
        self,
        topic: str,
        full_topic: str,
        event: CloudEvent,
        body: bytes,
        headers: dict[str, str],
        raw: object,
    ) -> None:
        handler = self._handlers[topic]
        for attempt in range(1, self.max_attempts + 1):
            start = time.perf_counter()
            try:
                await self._apply_once(handler, event)
            except _Duplicate:
                self.metrics.events_consumed.labels(topic, "duplicate").inc()
                return
            except ConnectionFailure:
                self.metrics.events_failed.labels(topic).inc()
                log.warning("database unreachable; message left uncommitted for redelivery")
                await asyncio.sleep(1.0)
                raise
            except Exception as exc:
                self.metrics.events_failed.labels(topic).inc()
                log.warning("handler failed (attempt %d/%d): %r", attempt, self.max_attempts, exc)
                if attempt == self.max_attempts:
                    await self._dead_letter(
                        full_topic, topic, body, headers, raw, repr(exc), attempt
                    )
                    return
                await asyncio.sleep(self.retry_backoff_s * 2 ** (attempt - 1))
            else:
                self.metrics.handler_latency.labels(topic).observe(time.perf_counter() - start)
                self.metrics.events_consumed.labels(topic, "processed").inc()
                # One line per event, with the report, event and trace ids bound above.
                log.info("%s processed", event.type)
                return

    async def _apply_once(self, handler: Handler, event: CloudEvent) -> None:
        async def work(uow: UnitOfWork) -> None:
            try:
                await self.db[INBOX].insert_one(
                    {
                        "_id": event.id,
                        "type": event.type,
                        "subject": event.subject,
                        "processed_at": utcnow(),
                    },
                    session=uow.session,
                )
            except DuplicateKeyError as exc:
                raise _Duplicate from exc
            await handler(event, uow)

        # Commits, then wakes the outbox relay if the handler emitted events.
        await self.transactions.run(work)

    async def _dead_letter(
        self,
        full_topic: str,
        topic: str,
        body: bytes,
        headers: dict[str, str],
        raw: object,
        error: str,
        attempts: int,
    ) -> None:
        key = getattr(raw, "key", None)
        dl_headers = {
            **{k: v for k, v in headers.items() if isinstance(v, str)},
            "x-dlq-error": error[:1000],
            "x-dlq-attempts": str(attempts),
            "x-dlq-topic": full_topic,
            "x-dlq-partition": str(getattr(raw, "partition", "")),
            "x-dlq-offset": str(getattr(raw, "offset", "")),
            "x-dlq-group": self.group_id,
        }
        await self.broker.publish(body, dlq(full_topic), key=key, headers=dl_headers)
        self.metrics.events_dead_lettered.labels(topic).inc()
        log.error("event dead-lettered to %s: %s", dlq(full_topic), error[:200])
