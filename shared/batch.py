"""Applying a polled batch of events: one unit of work, each event id once, poison isolated.

A consumer polls many records at once. Their effects, and one processed-event record per event
(`inbox`, by event id), are written in ONE unit of work: one transaction, one insert of the
records (the inbox is read only when that insert finds an id applied before, in a second
attempt), whatever the handlers write, one outbox write. The offsets of the batch are committed after that commits (`NACK_ON_ERROR`).

If the batch's unit of work fails (not because MongoDB is unreachable), its events are applied
again one by one, each with its own retries, so one poison event is dead-lettered alone and the
rest take effect. When MongoDB is unreachable nothing is dead-lettered: the batch is left
uncommitted and redelivered.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import timedelta

from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError, ConnectionFailure, DuplicateKeyError

from shared.events import CloudEvent, utcnow
from shared.logging import bind, log_context
from shared.metrics import ServiceMetrics
from shared.mongo import Document
from shared.retention import Expiry
from shared.tracing import SpanKind, span, trace_id
from shared.uow import Transactions, UnitOfWork, Work

log = logging.getLogger(__name__)

INBOX = "inbox"
# Redelivery comes within minutes or days (a replayed offset, a restored backup); after 30 days
# an inbox record is deleted (`shared.retention`).
INBOX_EXPIRY = Expiry(
    INBOX, "processed_at", timedelta(days=30), "inbox_processed_at", retired_ttl="inbox_ttl"
)

# A handler applies one event inside the consumer's unit of work (the inbox record is in it too).
Handler = Callable[[CloudEvent, UnitOfWork], Awaitable[None]]
# A batch handler applies all the new events of its topics in a polled batch at once (in order),
# to read and write them in bulk; it wraps what it does for each event in `event_scope`.
BatchHandler = Callable[[list["Incoming"], UnitOfWork], Awaitable[None]]


@dataclass
class Incoming:
    """One record of a polled batch whose envelope is valid."""

    topic: str  # without the deployment's prefix
    event: CloudEvent
    headers: dict[str, str]
    raw: object  # the broker's record, for dead-lettering
    body: bytes
    elapsed_s: float = field(default=0.0)


# dead_letter(incoming, error, attempts)
DeadLetter = Callable[[Incoming, str, int], Awaitable[None]]


@contextlib.contextmanager
def event_ids(event: CloudEvent) -> Iterator[None]:
    """Binds the event's report, event and trace ids to the log lines written inside."""
    token = bind(report_id=event.subject, event_id=event.id, trace_id=trace_id(event.traceparent))
    try:
        yield
    finally:
        log_context.reset(token)


@contextlib.contextmanager
def event_scope(topic: str, event: CloudEvent, headers: Mapping[str, str]) -> Iterator[None]:
    """The event's log ids and its consumer span: what a handler emits continues its trace."""
    parent = headers.get("traceparent") or event.traceparent
    with event_ids(event), span(f"process {topic}", parent, kind=SpanKind.CONSUMER):
        yield


def per_event(handlers: Mapping[str, Handler]) -> BatchHandler:
    """A batch handler that applies each event with its topic's handler, one after another."""

    async def apply(batch: list[Incoming], uow: UnitOfWork) -> None:
        for one in batch:
            start = time.perf_counter()
            with event_scope(one.topic, one.event, one.headers):
                await handlers[one.topic](one.event, uow)
            one.elapsed_s = time.perf_counter() - start

    return apply


class BatchApplier:
    def __init__(
        self,
        handlers: Mapping[str, BatchHandler],
        transactions: Transactions,
        db: AsyncDatabase[Document],
        metrics: ServiceMetrics,
        dead_letter: DeadLetter,
        *,
        max_attempts: int,
        retry_backoff_s: float,
    ) -> None:
        self.handlers = handlers
        self.transactions = transactions
        self.inbox = db[INBOX]
        self.metrics = metrics
        self.dead_letter = dead_letter
        self.max_attempts = max_attempts
        self.retry_backoff_s = retry_backoff_s

    async def apply(self, batch: list[Incoming]) -> None:
        if not batch:
            return
        try:
            fresh = await self._apply_together(batch)
        except ConnectionFailure:
            self._failed(batch)
            log.warning("database unreachable; %d events left uncommitted", len(batch))
            await asyncio.sleep(1.0)
            raise
        except Exception as exc:
            self._failed(batch)
            log.warning("a batch of %d failed (%r): applying it event by event", len(batch), exc)
            for one in batch:
                await self._apply_alone(one)
            return
        self._done(batch, fresh)

    async def _apply_alone(self, one: Incoming) -> None:
        for attempt in range(1, self.max_attempts + 1):
            try:
                fresh = await self._apply_together([one])
            except ConnectionFailure:
                self._failed([one])
                await asyncio.sleep(1.0)
                raise
            except Exception as exc:
                self._failed([one])
                with event_ids(one.event):
                    log.warning(
                        "handler failed (attempt %d/%d): %r", attempt, self.max_attempts, exc
                    )
                if attempt == self.max_attempts:
                    await self.dead_letter(one, repr(exc), attempt)
                    return
                await asyncio.sleep(self.retry_backoff_s * 2 ** (attempt - 1))
            else:
                self._done([one], fresh)
                return

    async def _apply_together(self, batch: list[Incoming]) -> set[str]:
        """One unit of work for the batch; returns the ids of the events applied now.

        The inbox records are inserted first, without reading the inbox: almost every batch is
        new. If one of its events was applied before, that insert fails and aborts the unit of
        work, which runs again reading which ids the inbox holds (a redelivery costs one more
        transaction; nothing of the first attempt remains). The first attempt is optimistic
        (`UnitOfWork.optimistic`): the handlers' stores may skip reads in the same way, and a
        duplicate key of theirs runs the batch again the same way."""
        try:
            return await self.transactions.run(self._work(batch, read_inbox=False), optimistic=True)
        except _SeenBefore:
            return await self.transactions.run(self._work(batch, read_inbox=True))

    def _work(self, batch: list[Incoming], *, read_inbox: bool) -> Work[set[str]]:
        async def work(uow: UnitOfWork) -> set[str]:
            fresh = list({one.event.id: one for one in batch}.values())
            if read_inbox:
                ids = [one.event.id for one in fresh]
                cursor = self.inbox.find({"_id": {"$in": ids}}, {"_id": 1}, session=uow.session)
                seen = {d["_id"] async for d in cursor}
                fresh = [one for one in fresh if one.event.id not in seen]
            if fresh:
                now = utcnow()
                records = [
                    {"_id": e.id, "type": e.type, "subject": e.subject, "processed_at": now}
                    for e in (one.event for one in fresh)
                ]
                try:
                    await self.inbox.insert_many(records, session=uow.session)
                except (BulkWriteError, DuplicateKeyError) as exc:
                    if read_inbox or not _duplicate(exc):
                        raise
                    raise _SeenBefore from exc
            for handler, events in _by_handler(fresh, self.handlers):
                start = time.perf_counter()
                try:
                    await handler(events, uow)
                except (BulkWriteError, DuplicateKeyError) as exc:
                    if read_inbox or not _duplicate(exc):
                        raise
                    raise _SeenBefore from exc  # an optimistic store met a row it skipped reading
                for one in events:  # a per-event handler timed each event itself
                    one.elapsed_s = one.elapsed_s or (time.perf_counter() - start) / len(events)
            return {one.event.id for one in fresh}

        return work

    def _failed(self, batch: list[Incoming]) -> None:
        for one in batch:
            self.metrics.events_failed.labels(one.topic).inc()

    def _done(self, batch: list[Incoming], fresh: set[str]) -> None:
        for one in batch:
            if one.event.id not in fresh:
                self.metrics.events_consumed.labels(one.topic, "duplicate").inc()
                continue
            fresh.discard(one.event.id)  # the same event twice in one batch: once is applied
            self.metrics.handler_latency.labels(one.topic).observe(one.elapsed_s)
            self.metrics.events_consumed.labels(one.topic, "processed").inc()
            with event_ids(one.event):
                log.info("%s processed", one.event.type)  # one line per event, with its ids


class _SeenBefore(Exception):
    """An event of the batch is in the inbox already, or an optimistic write met a row it did
    not read first: apply the batch again, reading them."""


def _duplicate(exc: BulkWriteError | DuplicateKeyError) -> bool:
    if isinstance(exc, DuplicateKeyError):
        return True
    errors = exc.details.get("writeErrors") or []
    return bool(errors) and all(e.get("code") == 11000 for e in errors)


def _by_handler(
    fresh: list[Incoming], handlers: Mapping[str, BatchHandler]
) -> list[tuple[BatchHandler, list[Incoming]]]:
    """The batch's events grouped by handler, in order of first appearance (a service has one
    handler for all its topics, so its events keep the broker's order)."""
    groups: dict[int, tuple[BatchHandler, list[Incoming]]] = {}
    for one in fresh:
        handler = handlers[one.topic]
        groups.setdefault(id(handler), (handler, []))[1].append(one)
    return list(groups.values())
