"""The outbox relay and the idempotent consumer, against the real embedded broker and database."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer
from pymongo import AsyncMongoClient

from shared.events import CloudEvent, ReportSupportedV1, Topic, dlq, utcnow
from shared.outbox import encode
from shared.runtime import Runtime
from shared.settings import ServiceSettings
from shared.uow import UnitOfWork
from tests.support import eventually, unique

TOPIC = Topic.REPORT_SUPPORTED


class Probe:
    """A runtime whose handler stores what it sees, or fails on demand."""

    def __init__(self, env: dict[str, str]) -> None:
        settings = ServiceSettings(service_name=unique("probe"), **env)  # type: ignore[arg-type]
        self.rt = Runtime(settings, {})
        self.fail_for: set[str] = set()
        self.units = 0  # units of work the handler ran in
        self._last_uow: UnitOfWork | None = None
        self.rt.consumer.subscribe(TOPIC, self.handle)

    async def handle(self, event: CloudEvent, uow: UnitOfWork) -> None:
        """Decodes the payload as services do: an invalid one fails here, not in the envelope."""
        payload = event.payload(ReportSupportedV1)
        if uow is not self._last_uow:
            self.units, self._last_uow = self.units + 1, uow
        if event.subject in self.fail_for:
            raise ValueError("boom")
        await self.rt.db.seen.insert_one(
            {"event": event.id, "subject": payload.report_id}, session=uow.session
        )

    async def seen(self, subject: str) -> int:
        return await self.rt.db.seen.count_documents({"subject": subject})

    async def applied(self, event_id: str) -> int:
        return await self.rt.db.seen.count_documents({"event": event_id})

    async def after_marker(self, subject: str) -> None:
        """Emits a later event with the same key (same partition, so consumed after everything
        published before it) and waits until it is applied and the outbox is drained."""
        marker = await self.emit(subject)
        await eventually(lambda: self.applied(marker.id), what="marker event consumed")
        await eventually(self._drained, what="outbox drained")

    async def _drained(self) -> bool:
        return await self.rt.db.outbox.count_documents({"status": "pending"}) == 0

    async def emit(self, subject: str) -> CloudEvent:
        data = ReportSupportedV1(report_id=subject, supporters=1, at=utcnow())
        return await self.rt.transactions.run(lambda uow: uow.emit(TOPIC, subject, data))


@pytest.fixture
async def probe(env: dict[str, str]) -> AsyncIterator[Probe]:
    p = Probe(env)
    await p.rt.start()
    await eventually(lambda: _ready(p.rt), timeout=60, what="probe ready")
    yield p
    await p.rt.stop()


async def _ready(rt: Runtime) -> bool:
    return all((await rt.readiness()).values())


async def test_outbox_event_reaches_consumer_once(probe: Probe) -> None:
    event = await probe.emit("r1")
    await probe.after_marker("r1")
    assert await probe.applied(event.id) == 1
    assert await probe.seen("r1") == 2  # the event and the marker, nothing else


async def test_many_topics_share_one_consumer_and_documentation_starts_none(
    probe: Probe,
) -> None:
    [working] = probe.rt.broker.subscribers
    assert working.running
    assert probe.rt.contract.subscribers
    for documented in probe.rt.contract.subscribers:
        assert not documented.running
        assert getattr(documented, "consumer", None) is None


async def test_outbox_entry_marked_sent_after_publish(probe: Probe) -> None:
    event = await probe.emit("r2")

    async def sent() -> bool:
        doc = await probe.rt.db.outbox.find_one({"_id": event.id})
        return bool(doc and doc["status"] == "sent")

    await eventually(sent, what="outbox entry sent")


async def test_sequence_increases_per_subject(probe: Probe) -> None:
    first, second, other = await probe.emit("r3"), await probe.emit("r3"), await probe.emit("r4")
    assert (first.sequence, second.sequence, other.sequence) == (1, 2, 1)


async def test_duplicate_delivery_applies_once(probe: Probe) -> None:
    event = CloudEvent(
        source="/test",
        type=TOPIC,
        subject="r5",
        sequence=1,
        data={"report_id": "r5", "supporters": 1, "at": utcnow().isoformat()},
    )
    topic = probe.rt.settings.topic(TOPIC)
    for _ in range(3):
        await probe.rt.broker.publish(encode(event), topic, key=b"r5")
    await probe.after_marker("r5")  # same key: consumed after the three copies
    assert await probe.applied(event.id) == 1
    duplicates = probe.rt.metrics.registry.get_sample_value(
        "events_consumed_total", {"topic": str(TOPIC), "outcome": "duplicate"}
    )
    assert duplicates == 2


def _support(report_id: str) -> dict[str, Any]:
    return {"report_id": report_id, "supporters": 1, "at": utcnow().isoformat()}


async def _dlq_messages(env: dict[str, str], topic: str, count: int) -> list[Any]:
    consumer = AIOKafkaConsumer(
        env["kafka_topic_prefix"] + dlq(topic),
        bootstrap_servers=env["kafka_bootstrap_servers"],
        auto_offset_reset="earliest",
        group_id=unique("dlq-reader"),
    )
    await consumer.start()
    try:
        got: list[Any] = []

        async def poll() -> list[Any]:
            batch = await consumer.getmany(timeout_ms=500)
            got.extend(m for msgs in batch.values() for m in msgs)
            return got if len(got) >= count else []

        return await eventually(poll, what="dlq message")
    finally:
        await consumer.stop()


async def test_unparseable_message_goes_to_dlq_and_partition_moves_on(
    probe: Probe, env: dict[str, str]
) -> None:
    await probe.rt.broker.publish(b"not json", probe.rt.settings.topic(TOPIC), key=b"r6")
    await probe.emit("r6")
    await eventually(lambda: probe.seen("r6"), what="next event consumed")
    [msg] = await _dlq_messages(env, TOPIC, 1)
    headers = dict(msg.headers)
    assert msg.value == b"not json"
    assert headers["x-dlq-error"].startswith(b"invalid envelope")


async def test_failing_handler_dead_letters_after_attempts(
    probe: Probe, env: dict[str, str]
) -> None:
    probe.fail_for.add("r7")
    await probe.emit("r7")
    [msg] = await _dlq_messages(env, TOPIC, 1)
    headers = dict(msg.headers)
    assert headers["x-dlq-attempts"] == b"3"
    assert b"boom" in headers["x-dlq-error"]
    assert await probe.seen("r7") == 0


async def test_payload_that_fails_its_model_is_dead_lettered_by_the_handler(
    probe: Probe, env: dict[str, str]
) -> None:
    event = CloudEvent(source="/test", type=TOPIC, subject="r10", sequence=1, data={"x": 1})
    await probe.rt.broker.publish(encode(event), probe.rt.settings.topic(TOPIC), key=b"r10")
    [msg] = await _dlq_messages(env, TOPIC, 1)
    headers = dict(msg.headers)
    assert headers["x-dlq-attempts"] == b"3"  # the envelope passed; the handler's decode failed
    assert b"validation errors for ReportSupportedV1" in headers["x-dlq-error"]
    assert await probe.applied(event.id) == 0


async def test_consumer_lag_gauge_reads_zero_once_caught_up(probe: Probe) -> None:
    await probe.emit("r8")
    await eventually(lambda: probe.seen("r8"), what="event consumed")
    await probe.rt.consumer.measure_lag()
    lag = probe.rt.metrics.registry.get_sample_value(
        "kafka_consumer_lag_messages", {"topic": str(TOPIC)}
    )
    assert lag == 0


async def test_graceful_stop_flushes_the_outbox(env: dict[str, str]) -> None:
    p = Probe({**env, "outbox_poll_interval_s": "600"})  # only a poke or the stop publishes
    await p.rt.start()
    await eventually(lambda: _ready(p.rt), timeout=60, what="probe ready")
    data = ReportSupportedV1(report_id="r9", supporters=1, at=utcnow())
    event = await p.rt.outbox.add(None, TOPIC, "r9", data)  # not poked: only the stop flushes it
    await p.rt.stop()
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(env["mongodb_uri"])
    doc = await client[p.rt.settings.database_name].outbox.find_one({"_id": event.id})
    await client.close()
    assert doc is not None
    assert doc["status"] == "sent"


async def test_a_poison_event_in_a_batch_is_dead_lettered_alone_and_the_rest_take_effect(
    probe: Probe, env: dict[str, str]
) -> None:
    probe.fail_for.add("p3")
    topic = probe.rt.settings.topic(TOPIC)
    events = [
        CloudEvent(source="/test", type=TOPIC, subject=f"p{i}", sequence=1, data=_support(f"p{i}"))
        for i in range(6)
    ]
    for event in events:  # one key: one partition, polled together
        await probe.rt.broker.publish(encode(event), topic, key=b"batch")
    [msg] = await _dlq_messages(env, TOPIC, 1)
    applied = [await probe.applied(e.id) for e in events]
    assert (json.loads(msg.value)["subject"], applied) == ("p3", [1, 1, 1, 0, 1, 1])


async def test_a_batch_is_applied_in_one_unit_of_work(probe: Probe) -> None:
    topic = probe.rt.settings.topic(TOPIC)
    events = [
        CloudEvent(source="/test", type=TOPIC, subject=f"b{i}", sequence=1, data=_support(f"b{i}"))
        for i in range(20)
    ]
    for event in events:
        await probe.rt.broker.publish(encode(event), topic, key=b"batch")
    await probe.after_marker("batch")
    assert [await probe.applied(e.id) for e in events] == [1] * 20
    assert probe.units < 20  # fewer transactions than events: they were applied in batches
