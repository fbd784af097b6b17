"""Notify's own Prometheus metrics (the common ones come from `shared/metrics.py`)."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

QUEUE_STATES = ("pending", "failed")
LATENCY_BUCKETS = (0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600, 21600)


class NotifyMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.delivered = Counter(
            "notifications_delivered_total",
            "Deliveries by channel and outcome: sent, failed, dead, skipped (worker or at "
            "recording), recorded (the log channel)",
            ["channel", "outcome"],
            registry=registry,
        )
        self.queue = Gauge(
            "notifications_queue_depth",
            "Deliveries waiting to be sent, by state: pending (never tried) or failed (waiting "
            "for their next attempt)",
            ["state"],
            registry=registry,
        )
        # Kept for dashboards made before `notifications_queue_depth`: the same as state=failed.
        self.retry_queue = Gauge(
            "notifications_retry_queue_depth",
            "Deliveries that failed and wait for their next attempt (= queue_depth{state=failed})",
            registry=registry,
        )
        self.latency = Histogram(
            "notification_delivery_latency_seconds",
            "From recording a delivery to its successful sending",
            ["channel"],
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        for state in QUEUE_STATES:  # both series exist from the start, at 0
            self.queue.labels(state)
        self.sse_streams = Gauge(
            "notifications_sse_streams_open",
            "Live status streams (Server-Sent Events) open in this process",
            registry=registry,
        )

    def set_queue(self, depths: dict[str, int]) -> None:
        for state in QUEUE_STATES:
            self.queue.labels(state).set(depths.get(state, 0))
        self.retry_queue.set(depths.get("failed", 0))


class RecordedCounter:
    """Counts deliveries settled when they are recorded (log entries, skipped ones) once per
    event, although the consumer's transaction may run the handler more than once (transient
    transaction errors, a redelivery after an abort). Remembers the last `remember` events."""

    def __init__(self, metrics: NotifyMetrics, remember: int = 10_000) -> None:
        self.metrics = metrics
        self.remember = remember
        self._counted: OrderedDict[str, None] = OrderedDict()

    def count(self, event_id: str, outcomes: Iterable[tuple[str, str]]) -> None:
        """`outcomes`: (channel, outcome) of each delivery the handling of `event_id` recorded."""
        if event_id in self._counted:
            return
        self._counted[event_id] = None
        if len(self._counted) > self.remember:
            self._counted.popitem(last=False)
        for channel, outcome in outcomes:
            self.metrics.delivered.labels(channel, outcome).inc()
