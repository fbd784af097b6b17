"""The connections and background loops of one service process, started and stopped together."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, TypeVar

from faststream.kafka import KafkaBroker
from pymongo import IndexModel

from shared.aio import wait_any
from shared.batch import INBOX_EXPIRY
from shared.consumer import EventConsumer, GroupTimeouts
from shared.contract import envelope
from shared.kafka import connect_until_up, make_broker
from shared.metrics import ServiceMetrics
from shared.mongo import ensure_indexes, make_client, ping
from shared.outbox import OUTBOX_EXPIRY, OUTBOX_INDEXES, OUTBOX_RETIRED, Outbox
from shared.relay import OutboxRelay
from shared.retention import Expiry, Retention, expiry_indexes, retired_indexes
from shared.settings import ServiceSettings
from shared.tracing import configure_tracing, flush_tracing
from shared.uow import MongoTransactions

log = logging.getLogger(__name__)
_T = TypeVar("_T")

Loop = Callable[[asyncio.Event], Awaitable[None]]


class Runtime:
    """Holds the MongoDB client, the FastStream broker, the outbox relay and the consumers.

    Nothing connects at construction; `start` returns at once and connects in the background,
    so a service starts (and reports not-ready) while Kafka or MongoDB is still down.
    """

    def __init__(
        self,
        settings: ServiceSettings,
        indexes: dict[str, Sequence[IndexModel]],
        *,
        emits: bool = True,
        expiries: Sequence[Expiry] = (),
        retired: Mapping[str, Sequence[str]] | None = None,
    ) -> None:
        """`emits=False`: a service that never emits an event (its units of work may not) runs
        no outbox relay at all: no polls, no gauges queries, no outbox indexes. `expiries`: what
        the service keeps only for a while, beside its inbox (and sent outbox entries).
        `retired`: indexes (by collection, names) an earlier version created, dropped at
        startup."""
        self.settings = settings
        configure_tracing(settings.service_name)  # OTLP export only if OTEL_EXPORTER_OTLP_ENDPOINT
        self.metrics = ServiceMetrics(settings.service_name)
        self.client = make_client(settings)
        self.db = self.client[settings.database_name]
        self.broker = make_broker(settings, self.metrics)
        # Never connected: holds the AsyncAPI description of the topics this service consumes and
        # produces, each with its typed envelope (`/asyncapi.json` is generated from it).
        self.contract = KafkaBroker(
            settings.kafka_bootstrap_servers, client_id=settings.service_name
        )
        self.outbox = Outbox(
            self.db,
            f"/fieldreports/{settings.service_name}",
            settings.kafka_topic_prefix,
            publishes=emits,
        )
        self.relay: OutboxRelay | None = None
        if emits:
            self.relay = OutboxRelay(
                self.outbox,
                self._publish,
                self.metrics,
                poll_interval=settings.outbox_poll_interval_s,
                batch_size=settings.outbox_batch_size,
            )
        self.transactions = MongoTransactions(self.client, self.outbox)
        self.consumer = self._consumer()
        self.retention = Retention(
            self.db, [INBOX_EXPIRY, *([OUTBOX_EXPIRY] if emits else []), *expiries]
        )
        self.indexes, self.retired_indexes = _index_plan(
            self.retention.expiries, indexes, retired or {}, emits
        )
        self.kafka_connected = asyncio.Event()
        self.kafka_ready = asyncio.Event()
        self.db_ready = asyncio.Event()
        self.stopping = asyncio.Event()
        self._loops: list[Loop] = [
            self.consumer.lag_loop,
            self._retention,
            *([self._relay] if emits else []),
        ]
        self._tasks: list[asyncio.Task[Any]] = []

    def _consumer(self) -> EventConsumer:
        settings = self.settings
        return EventConsumer(
            self.broker,
            self.transactions,
            self.db,
            self.metrics,
            contract=self.contract,
            group_id=settings.group_id,
            topic_prefix=settings.kafka_topic_prefix,
            max_attempts=settings.consumer_max_attempts,
            retry_backoff_s=settings.consumer_retry_backoff_s,
            batch_max=settings.consumer_batch_max,
            batch_wait_ms=settings.consumer_batch_wait_ms,
            linger_ms=settings.consumer_linger_ms,
            fetch_max_wait_ms=settings.kafka_fetch_max_wait_ms,
            group_timeouts=GroupTimeouts(
                settings.kafka_session_timeout_ms,
                settings.kafka_heartbeat_interval_ms,
                settings.kafka_max_poll_interval_ms,
            ),
        )

    def documents_publishing(self, *topics: str) -> None:
        """Declares produced topics so the AsyncAPI document lists each with its typed envelope.

        Documentation only, on the contract broker: the relay publishes through `broker`.
        """
        for topic in topics:
            model = envelope(topic)
            self.contract.publisher(
                self.settings.topic(topic),
                title=f"{self.settings.service_name}:{topic}",
                description=model.__doc__,
                schema=model,
            )

    def add_loop(self, loop: Loop) -> None:
        """A periodic job (reconciler, deadline check) that runs until shutdown; add before start."""
        self._loops.append(loop)

    async def _publish(self, topic: str, key: str, body: bytes, headers: dict[str, str]) -> None:
        if not self.kafka_connected.is_set():
            raise ConnectionError("kafka not connected yet")
        await self.broker.publish(body, topic, key=key.encode(), headers=headers)

    async def _prepare_db(self) -> None:
        delay = 0.5
        while True:
            try:
                await ensure_indexes(self.db, self.indexes, retired=self.retired_indexes)
            except Exception as exc:
                log.warning("mongodb not ready, retrying in %.1fs: %s", delay, exc)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 10.0)
                continue
            self.db_ready.set()
            return

    async def _relay(self, stop: asyncio.Event) -> None:
        """The outbox relay, once the producer is connected; until then, only its gauges (so a
        backlog behind a broker that never came up shows, and alerts)."""
        assert self.relay is not None
        while not (self.kafka_connected.is_set() or stop.is_set()):
            with contextlib.suppress(Exception):
                await self.relay.update_gauges()
            await wait_any(self.kafka_connected, stop, timeout=self.relay.poll_interval)
        if self.kafka_connected.is_set():
            await self.relay.run(stop)

    async def _retention(self, stop: asyncio.Event) -> None:
        await self.retention.run(stop, self.settings.retention_interval_s)

    async def _after_db(self, loop: Loop) -> None:
        await self.db_ready.wait()
        await loop(self.stopping)

    async def start(self) -> None:
        self._tasks.append(asyncio.create_task(self._prepare_db(), name="prepare-db"))
        self._tasks.append(
            asyncio.create_task(
                connect_until_up(self.broker, self.kafka_connected, self.kafka_ready),
                name="kafka-connect",
            )
        )
        for loop in self._loops:
            self._tasks.append(asyncio.create_task(self._after_db(loop), name=loop.__qualname__))

    async def stop(self) -> None:
        """Stops taking work, lets loops finish (the relay flushes), then closes connections."""
        if self.kafka_ready.is_set():
            await self.consumer.stop()
        self.stopping.set()
        _, pending = await asyncio.wait(self._tasks, timeout=10) if self._tasks else (set(), set())
        for task in pending:
            task.cancel()
        with contextlib.suppress(Exception):
            await self.broker.stop()
        await self.client.close()
        flush_tracing()

    async def readiness(self) -> dict[str, bool]:
        kafka = self.kafka_ready.is_set() and await self._broker_ping()
        mongo = self.db_ready.is_set() and await ping(self.client)
        self.metrics.dependency_up.labels("kafka").set(int(kafka))
        self.metrics.dependency_up.labels("mongodb").set(int(mongo))
        return {"kafka": kafka, "mongodb": mongo}

    async def _broker_ping(self) -> bool:
        try:
            return bool(await self.broker.ping(timeout=2.0))
        except Exception:
            return False


def _index_plan(
    expiries: Sequence[Expiry],
    own: Mapping[str, Sequence[IndexModel]],
    retired: Mapping[str, Sequence[str]],
    emits: bool,
) -> tuple[dict[str, Sequence[IndexModel]], dict[str, Sequence[str]]]:
    """The indexes to build and the ones to drop: the outbox's (if the service emits), its
    expiries', the service's own."""
    outbox = OUTBOX_INDEXES if emits else {}
    build = _merged(outbox, expiry_indexes(expiries), own)
    drop = _merged(retired_indexes(expiries), OUTBOX_RETIRED if emits else {}, retired)
    return build, drop


def _merged(*parts: Mapping[str, Sequence[_T]]) -> dict[str, Sequence[_T]]:
    """Index lists (models or names) by collection, each part's added to the ones before."""
    out: dict[str, Sequence[_T]] = {}
    for part in parts:
        for collection, models in part.items():
            out[collection] = [*out.get(collection, ()), *models]
    return out
