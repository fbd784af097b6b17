"""The consumer's linger: events a moment apart share one unit of work (real broker and database)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from shared.events import CloudEvent
from shared.outbox import encode
from tests.shared.test_event_pipeline import TOPIC, Probe, _ready, _support
from tests.support import eventually


@pytest.fixture
async def lingering(env: dict[str, str]) -> AsyncIterator[Probe]:
    p = Probe({**env, "consumer_linger_ms": "1500"})
    await p.rt.start()
    await eventually(lambda: _ready(p.rt), timeout=60, what="probe ready")
    yield p
    await p.rt.stop()


def _event(subject: str) -> CloudEvent:
    return CloudEvent(
        source="/test", type=TOPIC, subject=subject, sequence=1, data=_support(subject)
    )


async def test_two_events_a_moment_apart_are_applied_in_one_unit_of_work(
    lingering: Probe,
) -> None:
    await lingering.after_marker("warm")  # the consumer has joined and polls
    before = lingering.units
    topic = lingering.rt.settings.topic(TOPIC)
    first, second = _event("l1"), _event("l2")
    await lingering.rt.broker.publish(encode(first), topic, key=b"l1")
    await asyncio.sleep(0.3)
    await lingering.rt.broker.publish(encode(second), topic, key=b"l2")
    await eventually(lambda: lingering.applied(second.id), what="second event applied")
    assert await lingering.applied(first.id) == 1
    assert lingering.units == before + 1
