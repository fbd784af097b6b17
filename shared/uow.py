"""The unit of work: one transaction in which a use case changes state and emits its events.

A use case receives a `UnitOfWork` and never sees MongoDB's transaction API: it passes
`uow.session` to the stores it writes through and calls `uow.emit(topic, subject, payload)` for
each event. `Transactions.run(work)` opens the session and the transaction, runs `work(uow)`
(again, from the start, when the driver reports a transient error), writes the emitted events to
the outbox inside that same transaction, commits, and only then hands them to the outbox relay.

Nothing in a unit of work is tied to one event or one request, so a consumer can apply a whole
batch of events in one `run` (one transaction, one outbox write, one wake-up).

`FakeTransactions` has the same interface with no I/O, for use-case tests: it records what each
committed unit of work emitted and drops what a failed one emitted.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Protocol, TypeVar

from pydantic import BaseModel
from pymongo import AsyncMongoClient
from pymongo.asynchronous.client_session import AsyncClientSession

from shared.events import CloudEvent
from shared.mongo import Document
from shared.outbox import Outbox

T = TypeVar("T")
# What a use case hands its stores: the unit of work's transaction (None in the fake, or
# outside a transaction). Use cases pass it on and never look inside.
Session = AsyncClientSession | None
log = logging.getLogger(__name__)


class UnitOfWork(Protocol):
    @property
    def session(self) -> Session:
        """The transaction's session, for the stores (None in the in-memory fake)."""
        ...

    async def emit(
        self, topic: str, subject: str, payload: BaseModel, *, sequence: int | None = None
    ) -> CloudEvent:
        """Adds an event to the outbox of this transaction; `sequence` defaults to the next
        one of `subject` (per report, per producing service)."""
        ...

    def after_commit(self, callback: Callable[[], None]) -> None:
        """Runs `callback` once the transaction has committed (never if it does not), e.g. to
        wake an in-process worker for the work this unit of work stored."""
        ...

    @property
    def optimistic(self) -> bool:
        """Whether stores may skip a read that only rules out a row they are about to insert:
        True only on a consumer batch's first attempt, whose events the inbox insert has just
        shown to be new. A duplicate key then aborts it, and the batch runs again, not
        optimistic (`shared/batch.py`)."""
        ...


Work = Callable[[UnitOfWork], Awaitable[T]]


class Transactions(Protocol):
    async def run(self, work: Work[T], *, optimistic: bool = False) -> T:
        """Runs `work` in one unit of work and commits it; wakes the relay if it emitted.
        `optimistic`: see `UnitOfWork.optimistic`."""
        ...


class MongoUnitOfWork:
    def __init__(
        self, session: AsyncClientSession, outbox: Outbox, optimistic: bool = False
    ) -> None:
        self._session = session
        self._outbox = outbox
        self._optimistic = optimistic
        self.events: list[CloudEvent] = []
        self.callbacks: list[Callable[[], None]] = []

    def after_commit(self, callback: Callable[[], None]) -> None:
        self.callbacks.append(callback)

    @property
    def session(self) -> AsyncClientSession:
        return self._session

    @property
    def optimistic(self) -> bool:
        return self._optimistic

    async def emit(
        self, topic: str, subject: str, payload: BaseModel, *, sequence: int | None = None
    ) -> CloudEvent:
        if sequence is None:
            sequence = await self._outbox.next_sequence(subject, self._session)
        event = self._outbox.new_event(topic, subject, payload, sequence)
        self.events.append(event)
        return event


class MongoTransactions:
    """`Transactions` over a MongoDB client and the service's outbox."""

    def __init__(self, client: AsyncMongoClient[Document], outbox: Outbox) -> None:
        self.client = client
        self.outbox = outbox

    async def run(self, work: Work[T], *, optimistic: bool = False) -> T:
        last: MongoUnitOfWork | None = None
        entries: list[Document] = []

        async def attempt(session: AsyncClientSession) -> T:
            nonlocal last, entries
            last = MongoUnitOfWork(session, self.outbox, optimistic)  # a retry starts from nothing
            result = await work(last)
            entries = await self.outbox.insert(session, last.events, held=True)
            return result

        async with self.client.start_session() as session:
            result = await session.with_transaction(attempt)
        assert last is not None
        self.outbox.committed(entries)  # handed to the relay (or it is woken to read them)
        _run_callbacks(last.callbacks)
        return result


def _run_callbacks(callbacks: list[Callable[[], None]]) -> None:
    for callback in callbacks:
        try:
            callback()
        except Exception:  # the transaction is committed: a failing wake-up must not undo that
            log.exception("after-commit callback failed")


class FakeUnitOfWork:
    def __init__(self, sequences: dict[str, int], source: str, optimistic: bool = False) -> None:
        self._sequences = sequences
        self._source = source
        self._optimistic = optimistic
        self.events: list[CloudEvent] = []
        self.callbacks: list[Callable[[], None]] = []

    def after_commit(self, callback: Callable[[], None]) -> None:
        self.callbacks.append(callback)

    @property
    def session(self) -> None:
        return None

    @property
    def optimistic(self) -> bool:
        return self._optimistic

    async def emit(
        self, topic: str, subject: str, payload: BaseModel, *, sequence: int | None = None
    ) -> CloudEvent:
        if sequence is None:
            sequence = self._sequences.get(subject, 0) + 1
        self._sequences[subject] = max(sequence, self._sequences.get(subject, 0))
        event = CloudEvent(
            source=self._source,
            type=topic,
            subject=subject,
            dataschema=f"{topic}/v1",
            sequence=sequence,
            data=payload.model_dump(mode="json"),
        )
        self.events.append(event)
        return event


class FakeTransactions:
    """In-memory `Transactions`: `emitted` holds the events of committed units of work."""

    def __init__(self, source: str = "/fieldreports/test") -> None:
        self.source = source
        self.emitted: list[CloudEvent] = []
        self.commits = 0
        self.rollbacks = 0
        self.wakeups = 0
        self._sequences: dict[str, int] = {}

    async def run(self, work: Work[T], *, optimistic: bool = False) -> T:
        sequences = dict(self._sequences)
        uow = FakeUnitOfWork(sequences, self.source, optimistic)
        try:
            result = await work(uow)
        except BaseException:
            self.rollbacks += 1
            raise
        self._sequences = sequences
        self.emitted.extend(uow.events)
        self.commits += 1
        if uow.events:
            self.wakeups += 1
        _run_callbacks(uow.callbacks)
        return result

    def of_type(self, topic: str) -> list[CloudEvent]:
        return [e for e in self.emitted if e.type == topic]
