"""The outbox relay's hand-over and the inbox's optimistic insert, against the real database
(the broker is a list: what the relay published, in order)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from pymongo import AsyncMongoClient, monitoring

from shared.batch import BatchApplier, Incoming, per_event
from shared.events import CloudEvent, ReportSupportedV1, Topic, utcnow
from shared.metrics import ServiceMetrics
from shared.outbox import OUTBOX, Outbox
from shared.relay import OutboxRelay
from shared.runtime import Runtime
from shared.settings import ServiceSettings
from shared.uow import MongoTransactions, UnitOfWork
from tests.support import eventually, unique

Doc = dict[str, Any]


class Reads(monitoring.CommandListener):
    """The `find` and `update` commands sent to the outbox."""

    def __init__(self) -> None:
        self.outbox_finds = 0
        self.outbox_updates = 0

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        if event.command_name == "find" and event.command.get("find") == OUTBOX:
            self.outbox_finds += 1
        if event.command_name == "update" and event.command.get("update") == OUTBOX:
            self.outbox_updates += 1

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass


class Rig:
    def __init__(self, client: AsyncMongoClient[Doc], db: str, lease_s: float = 30.0) -> None:
        self.outbox = Outbox(client[db], "/fieldreports/test")
        self.published: list[str] = []  # event ids, in publishing order
        self.relay = OutboxRelay(
            self.outbox, self._publish, ServiceMetrics(unique("m")), lease_s=lease_s
        )
        self.transactions = MongoTransactions(client, self.outbox)

    async def _publish(self, topic: str, key: str, body: bytes, headers: dict[str, str]) -> None:
        self.published.append(CloudEvent.model_validate_json(body).id)

    async def emit(self, subject: str) -> CloudEvent:
        data = ReportSupportedV1(report_id=subject, supporters=1, at=utcnow())
        return await self.transactions.run(
            lambda uow: uow.emit(Topic.REPORT_SUPPORTED, subject, data)
        )


@pytest.fixture
async def client(env: dict[str, str]) -> AsyncIterator[tuple[AsyncMongoClient[Doc], Reads, str]]:
    reads = Reads()
    c: AsyncMongoClient[Doc] = AsyncMongoClient(env["mongodb_uri"], event_listeners=[reads])
    yield c, reads, unique("relay")
    await c.close()


@contextlib.asynccontextmanager
async def running(relay: OutboxRelay) -> AsyncIterator[None]:
    stop = asyncio.Event()
    task = asyncio.create_task(relay.run(stop))
    try:
        yield
    finally:
        stop.set()
        await task


async def _sent(client: AsyncMongoClient[Doc], db: str, event: CloudEvent) -> bool:
    return await client[db][OUTBOX].count_documents({"_id": event.id, "status": "sent"}) == 1


def _published(rig: Rig, n: int) -> Callable[[], Awaitable[bool]]:
    async def probe() -> bool:
        return len(rig.published) >= n

    return probe


async def test_a_committed_event_is_published_from_memory_without_reading_the_outbox(
    client: tuple[AsyncMongoClient[Doc], Reads, str],
) -> None:
    c, reads, db = client
    rig = Rig(c, db)
    async with running(rig.relay):
        await rig.emit("r0")
        await eventually(_published(rig, 1), timeout=10, what="first event published")
        before = reads.outbox_finds
        event = await rig.emit("r1")
        await eventually(lambda: _sent(c, db, event), timeout=10, what="marked sent")
        assert reads.outbox_finds == before  # (the stop's last flush reads it)
    assert rig.published[1:] == [event.id]


async def test_events_published_a_moment_apart_are_marked_sent_in_one_write(
    client: tuple[AsyncMongoClient[Doc], Reads, str],
) -> None:
    c, reads, db = client
    rig = Rig(c, db)
    rig.relay.mark_delay = 2.0
    async with running(rig.relay):
        first = await rig.emit("r0")
        await eventually(lambda: _sent(c, db, first), timeout=10, what="first marked sent")
        before = reads.outbox_updates
        events = [await rig.emit(f"r{i}") for i in range(1, 4)]
        await eventually(_published(rig, 4), timeout=10, what="three more published")

        async def all_sent() -> bool:
            return all([await _sent(c, db, event) for event in events])

        await eventually(all_sent, timeout=10, what="the three marked sent")
        assert reads.outbox_updates == before + 1


async def test_events_handed_over_before_the_first_scan_follow_older_entries_of_their_report(
    client: tuple[AsyncMongoClient[Doc], Reads, str],
) -> None:
    c, _, db = client
    rig = Rig(c, db)
    data = ReportSupportedV1(report_id="r1", supporters=1, at=utcnow())
    older = await rig.outbox.add(None, Topic.REPORT_SUPPORTED, "r1", data)  # e.g. before a crash
    newer = await rig.emit("r1")  # handed over, but the relay has not scanned yet
    async with running(rig.relay):
        await eventually(_published(rig, 2), timeout=10, what="both published")
    assert rig.published == [older.id, newer.id]


async def test_what_a_dead_relay_held_is_published_by_another_once_its_lease_ends(
    client: tuple[AsyncMongoClient[Doc], Reads, str],
) -> None:
    c, _, db = client
    dead = Rig(c, db, lease_s=1.0)
    event = await dead.emit("r1")  # handed to a relay that never runs
    peer = Rig(c, db)
    assert await peer.relay.flush_once() == 0  # still leased to the dead one
    await eventually(peer.relay.flush_once, timeout=10, interval=0.2, what="claimed after lease")
    assert peer.published == [event.id]


async def test_a_service_that_emits_nothing_runs_no_relay_and_refuses_an_event(
    env: dict[str, str],
) -> None:
    settings = ServiceSettings(service_name=unique("quiet"), **env)  # type: ignore[arg-type]
    rt = Runtime(settings, {}, emits=False)
    data = ReportSupportedV1(report_id="r1", supporters=1, at=utcnow())

    async def work(uow: UnitOfWork) -> None:
        await uow.emit(Topic.REPORT_SUPPORTED, "r1", data, sequence=1)

    assert rt.relay is None
    with pytest.raises(RuntimeError, match="publishes no events"):
        await rt.transactions.run(work)
    await rt.client.close()


async def test_a_batch_holding_an_event_applied_before_applies_only_the_new_one(
    client: tuple[AsyncMongoClient[Doc], Reads, str],
) -> None:
    c, _, db = client
    applied: list[str] = []

    async def handler(event: CloudEvent, uow: UnitOfWork) -> None:
        applied.append(event.id)

    async def dead_letter(one: Incoming, error: str, attempts: int) -> None:
        raise AssertionError(f"dead-lettered: {error}")

    topic = Topic.REPORT_SUPPORTED
    applier = BatchApplier(
        {topic: per_event({topic: handler})}, Rig(c, db).transactions, c[db],
        ServiceMetrics(unique("m")), dead_letter, max_attempts=1, retry_backoff_s=0,
    )  # fmt: skip
    first, second = (
        CloudEvent(source="/t", type=topic, subject="r1", sequence=n, data={}) for n in (1, 2)
    )
    await applier.apply([Incoming(topic, first, {}, None, b"")])
    await applier.apply([Incoming(topic, e, {}, None, b"") for e in (first, second)])
    assert applied == [first.id, second.id]
    assert await c[db]["inbox"].count_documents({}) == 2


async def test_a_duplicate_key_on_the_optimistic_attempt_applies_the_batch_again_reading(
    client: tuple[AsyncMongoClient[Doc], Reads, str],
) -> None:
    c, _, db = client
    rows = c[db]["rows"]
    await rows.insert_one({"_id": "r1"})  # a row an optimistic store assumes absent
    attempts: list[bool] = []

    async def handler(events: list[Incoming], uow: UnitOfWork) -> None:
        attempts.append(uow.optimistic)
        if uow.optimistic:
            await rows.insert_one({"_id": "r1"}, session=uow.session)
        else:
            await rows.update_one({"_id": "r1"}, {"$set": {"seen": True}}, session=uow.session)

    async def dead_letter(one: Incoming, error: str, attempts: int) -> None:
        raise AssertionError(f"dead-lettered: {error}")

    topic = Topic.REPORT_SUPPORTED
    applier = BatchApplier(
        {topic: handler}, Rig(c, db).transactions, c[db],
        ServiceMetrics(unique("m")), dead_letter, max_attempts=1, retry_backoff_s=0,
    )  # fmt: skip
    event = CloudEvent(source="/t", type=topic, subject="r1", sequence=1, data={})
    await applier.apply([Incoming(topic, event, {}, None, b"")])
    assert attempts == [True, False]
    assert await rows.find_one({"_id": "r1"}) == {"_id": "r1", "seen": True}
    assert await c[db]["inbox"].count_documents({"_id": event.id}) == 1
