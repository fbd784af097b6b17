"""Idempotent event consumption: one Kafka consumer per service, batches, dead letters.

The consumer polls records in batches and hands them to `BatchApplier` (`shared/batch.py`):
each batch's effects and processed-event records are written in one unit of work, and the
offsets are committed only after it committed (FastStream's `NACK_ON_ERROR`: commit after the
handler, seek back when it raises). A record that cannot be parsed, or an event whose handler
still fails after its attempts, goes to `<topic>.dlq` and the partition moves on.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any, NamedTuple

from aiokafka import TopicPartition
from faststream import AckPolicy
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage
from pydantic import ValidationError
from pymongo.asynchronous.database import AsyncDatabase

from shared.aio import wait_any
from shared.batch import BatchApplier, BatchHandler, Handler, Incoming, per_event
from shared.contract import envelope
from shared.events import CloudEvent, dlq
from shared.metrics import ServiceMetrics
from shared.mongo import Document
from shared.uow import Transactions

log = logging.getLogger(__name__)


class GroupTimeouts(NamedTuple):
    """Consumer-group timing: how soon a dead replica's partitions move to its peers."""

    session_ms: int = 10_000
    heartbeat_ms: int = 3_000
    max_poll_interval_ms: int = 30_000


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
        batch_max: int = 100,
        batch_wait_ms: int = 100,
        linger_ms: int = 0,
        fetch_max_wait_ms: int = 500,
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
        self.batch_max = batch_max
        self.batch_wait_ms = batch_wait_ms
        self.linger_ms = linger_ms
        self.fetch_max_wait_ms = fetch_max_wait_ms
        self._handlers: dict[str, BatchHandler] = {}
        self.applier = BatchApplier(
            self._handlers,
            transactions,
            db,
            metrics,
            self._dead_letter,
            max_attempts=max_attempts,
            retry_backoff_s=retry_backoff_s,
        )
        self._subscribers: dict[str, Any] = {}

    def subscribe(self, topic: str, handler: Handler) -> None:
        self.subscribe_many({topic: handler})

    def subscribe_many(self, handlers: dict[str, Handler], title: str | None = None) -> None:
        """Consumes several topics through ONE Kafka consumer; each event is applied by its
        topic's handler, a polled batch of them in one unit of work.

        A service that consumes many topics joins its consumer group once instead of once per
        topic (each join rebalances the whole group, which takes seconds).
        """
        docs = {topic: handler.__doc__ or topic for topic, handler in handlers.items()}
        self.subscribe_batch(docs, per_event(handlers), title)

    def subscribe_batch(
        self, topics: dict[str, str], handler: BatchHandler, title: str | None = None
    ) -> None:
        """Like `subscribe_many`, with one handler that gets all the new events of a polled
        batch at once, to read and write them in bulk. `topics` maps each topic to what the
        handler does with it (for the AsyncAPI document).

        The working subscriber takes raw records (the envelope is checked here, the payload by
        the handler) and stays out of the AsyncAPI document; each topic is documented with its
        typed envelope on the never-started contract broker instead (`_document`); `title`
        names the one Kafka consumer in those entries.
        """
        full_names = [self.prefix + topic for topic in topics]

        async def on_batch(msg: KafkaMessage) -> None:
            records = _records(msg.raw_message)
            more = await self._linger(subscriber, len(records))
            try:
                await self.handle(records + more)
            except BaseException:
                _rewind(subscriber, more)  # FastStream rewinds only the records it polled
                raise

        subscriber = self.broker.subscriber(
            *full_names,
            batch=True,
            max_records=self.batch_max,
            batch_timeout_ms=self.batch_wait_ms,
            fetch_max_wait_ms=self.fetch_max_wait_ms,
            group_id=self.group_id,
            ack_policy=AckPolicy.NACK_ON_ERROR,
            auto_offset_reset="earliest",
            session_timeout_ms=self.group_timeouts.session_ms,
            heartbeat_interval_ms=self.group_timeouts.heartbeat_ms,
            max_poll_interval_ms=self.group_timeouts.max_poll_interval_ms,
            include_in_schema=False,
        )
        subscriber(on_batch)
        consumer_name = title or f"{self.group_id}:{'+'.join(topics)}"
        for topic, doc in topics.items():
            self._subscribers[topic] = subscriber
            self._handlers[topic] = handler
            self._document(topic, doc, consumer_name)

    def _document(self, topic: str, doc: str, consumer_name: str) -> None:
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
            description=f"{doc} (Kafka consumer `{consumer_name}`)",
        )(receives)

    async def _linger(self, subscriber: Any, polled: int) -> tuple[Any, ...]:
        """What follows a batch that is not full, for up to `linger_ms` (until the batch is
        full): events a moment apart, such as a report's `created` and `assigned`, or a steady
        stream's next ones, then share one unit of work instead of paying its fixed cost each."""
        consumer = getattr(subscriber, "consumer", None)
        room = self.batch_max - polled
        if self.linger_ms <= 0 or room <= 0 or consumer is None:
            return ()
        deadline = time.monotonic() + self.linger_ms / 1000
        more: list[Any] = []
        while room > 0 and (left := deadline - time.monotonic()) > 0:
            got = await consumer.getmany(timeout_ms=max(1, int(left * 1000)), max_records=room)
            for records in got.values():
                more += records
                room -= len(records)
        return tuple(more)

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

    async def handle(self, records: Any) -> None:
        """Applies one polled batch (a record or a tuple of records)."""
        batch: list[Incoming] = []
        for record in _records(records):
            full = str(record.topic)
            headers = {k: v.decode(errors="replace") for k, v in (record.headers or ())}
            body = bytes(record.value or b"")
            try:
                event = CloudEvent.model_validate_json(body)
            except ValidationError as exc:
                bad = Incoming(full.removeprefix(self.prefix), _UNREADABLE, headers, record, body)
                await self._dead_letter(bad, f"invalid envelope: {exc}", 1)
                continue
            batch.append(Incoming(full.removeprefix(self.prefix), event, headers, record, body))
        await self.applier.apply(batch)

    async def _dead_letter(self, one: Incoming, error: str, attempts: int) -> None:
        full_topic = self.prefix + one.topic
        raw = one.raw
        dl_headers = {
            **one.headers,
            "x-dlq-error": error[:1000],
            "x-dlq-attempts": str(attempts),
            "x-dlq-topic": full_topic,
            "x-dlq-partition": str(getattr(raw, "partition", "")),
            "x-dlq-offset": str(getattr(raw, "offset", "")),
            "x-dlq-group": self.group_id,
        }
        key = getattr(raw, "key", None)
        await self.broker.publish(one.body, dlq(full_topic), key=key, headers=dl_headers)
        self.metrics.events_dead_lettered.labels(one.topic).inc()
        log.error("event dead-lettered to %s: %s", dlq(full_topic), error[:200])


def _records(raw: Any) -> tuple[Any, ...]:
    return raw if isinstance(raw, tuple) else (raw,)


def _rewind(subscriber: Any, records: tuple[Any, ...]) -> None:
    """Seeks each partition of `records` back to its earliest one (a failed batch is redelivered
    whole, the lingered records too)."""
    earliest: dict[TopicPartition, int] = {}
    for record in records:
        tp = TopicPartition(record.topic, record.partition)
        earliest[tp] = min(earliest.get(tp, record.offset), record.offset)
    for tp, offset in earliest.items():
        subscriber.consumer.seek(tp, offset)


# Stands for an event whose envelope could not be read, in a dead letter's `Incoming`.
_UNREADABLE = CloudEvent(source="?", type="?", subject="?", sequence=1, data={})
