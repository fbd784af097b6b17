"""Batches as the consumer applies them, on the real database: there is no order across topics,
so a report's `report.created` may come in a batch after one of its other events was projected.
The batch's optimistic first attempt then meets the stored fact, and is applied again reading
it, at once (not after the driver's two minutes of retrying the transaction)."""

from __future__ import annotations

import asyncio

from tests.analytics.conftest import Running
from tests.analytics.factory import Story
from tests.support import polled, unique


async def test_a_creation_arriving_after_the_assignment_is_projected_with_the_rest_of_its_batch(
    running: Running,
) -> None:
    late, other = Story(unique("late-")), Story(unique("other-"))
    late_created, late_assigned = late.created(0).assigned(1).events
    other_created, other_assigned = other.created(0).assigned(1).events
    applier = running.runtime.consumer.applier
    await applier.apply([polled(late_assigned), polled(other_created)])
    # `late`'s first event here is its creation (assumed new: its fact is inserted); `other`'s
    # fact is replaced: two writes of one transaction, the first of which meets a duplicate
    await asyncio.wait_for(
        applier.apply([polled(late_created), polled(other_assigned)]), timeout=20
    )
    facts = running.runtime.db["facts"].find({"_id": {"$in": [late.report_id, other.report_id]}})
    assert {d["_id"]: (d["status"], d["category"]) async for d in facts} == {
        late.report_id: ("assigned", "pothole"),
        other.report_id: ("assigned", "pothole"),
    }
