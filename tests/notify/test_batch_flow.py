"""Batches through the real broker: one poison event among good ones (very likely polled in the
same batch) is dead-lettered alone. (A burst: `test_cost.py`.)"""

from __future__ import annotations

from typing import Any

from aiokafka import AIOKafkaConsumer

from shared.events import Topic, dlq
from tests.notify.conftest import Stack
from tests.notify.harness import assigned, created, recategorized
from tests.notify.test_delivery_flow import rid
from tests.support import eventually, unique


async def _dead_letters(stack: Stack, topic: str, event_id: str) -> list[Any]:
    consumer = AIOKafkaConsumer(
        stack.publish.prefix + dlq(topic),
        bootstrap_servers=stack.publish.bootstrap,
        auto_offset_reset="earliest",
        group_id=unique("dlq-reader"),
    )
    await consumer.start()
    got: list[Any] = []
    try:

        async def poll() -> list[Any]:
            batch = await consumer.getmany(timeout_ms=500)
            got.extend(m for msgs in batch.values() for m in msgs if event_id.encode() in m.value)
            return got

        return await eventually(poll, what="dead letter")
    finally:
        await consumer.stop()


async def test_a_poison_event_among_good_ones_is_dead_lettered_alone(stack: Stack) -> None:
    good = [created(rid(), None) for _ in range(3)]
    poison = assigned(rid(), "roads")
    poison = poison.model_copy(update={"data": {**poison.data, "due_at": "not a time"}})
    for event in (good[0], poison, good[1], good[2]):
        await stack.publish(event)
    for event in good:
        await eventually(lambda: stack.db.inbox.find_one({"_id": event.id}), what="good")  # noqa: B023
    [letter] = await _dead_letters(stack, Topic.REPORT_ASSIGNED, poison.id)
    assert dict(letter.headers)["x-dlq-attempts"] == b"3"
    assert await stack.db.inbox.find_one({"_id": poison.id}) is None


async def test_recategorized_through_the_broker_is_applied_and_tells_nobody(stack: Stack) -> None:
    report = rid()
    await stack.apply(assigned(report, "roads"))
    before = {d["id"] for d in await stack.deliveries(report)}
    await stack.apply(recategorized(report, "streetlight"))  # processed: not dead-lettered
    view = await stack.db.reports.find_one({"_id": report})
    assert view["category"] == "streetlight"
    assert {d["id"] for d in await stack.deliveries(report)} == before
