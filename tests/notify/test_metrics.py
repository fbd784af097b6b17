"""notify's own metrics, read by value from `/metrics` of the running service."""

from __future__ import annotations

import re

from tests.notify.conftest import Stack
from tests.notify.harness import assigned, created
from tests.notify.test_delivery_flow import emails_to, rid
from tests.support import eventually


def sample(text: str, name: str) -> float:
    """The value of one series in a Prometheus text page (0 when absent)."""
    found = re.search(rf"^{re.escape(name)} (\S+)$", text, re.MULTILINE)
    return float(found.group(1)) if found else 0.0


async def metrics(stack: Stack) -> str:
    return (await stack.client.get("/metrics")).text


SENT = 'notifications_delivered_total{channel="email",outcome="sent"}'
LATENCIES = 'notification_delivery_latency_seconds_count{channel="email"}'
RECORDED = 'notifications_delivered_total{channel="log",outcome="recorded"}'


async def test_sent_email_is_counted_and_its_latency_observed(stack: Stack) -> None:
    before = await metrics(stack)
    address = f"{rid()}@example.org"
    await stack.publish(created(rid(), {"email": address}))
    await emails_to(stack, address, 1)

    async def counted() -> str:
        text = await metrics(stack)
        return text if sample(text, SENT) >= sample(before, SENT) + 1 else ""

    text = await eventually(counted, what="delivery counted")
    assert sample(text, LATENCIES) >= sample(before, LATENCIES) + 1


async def test_queue_depth_gauges_agree_with_each_other(stack: Stack) -> None:
    text = await metrics(stack)
    failed = sample(text, 'notifications_queue_depth{state="failed"}')
    assert 'notifications_queue_depth{state="pending"}' in text
    assert sample(text, "notifications_retry_queue_depth") == failed


async def test_log_entries_are_counted_as_recorded(stack: Stack) -> None:
    before = sample(await metrics(stack), RECORDED)
    report = rid()
    await stack.apply(created(report, None))
    await stack.apply(assigned(report, "roads"))  # resident and agency: two more log entries

    async def counted() -> float:
        value = sample(await metrics(stack), RECORDED)
        return value if value >= before + 3 else 0.0

    await eventually(counted, what="log entries counted")
