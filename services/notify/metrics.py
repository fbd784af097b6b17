"""Notify's own Prometheus metrics (the common ones come from `shared/metrics.py`)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

LATENCY_BUCKETS = (0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600, 21600)


class NotifyMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.delivered = Counter(
            "notifications_delivered_total",
            "Delivery attempts by channel and outcome (sent, failed, dead, skipped)",
            ["channel", "outcome"],
            registry=registry,
        )
        self.retry_queue = Gauge(
            "notifications_retry_queue_depth",
            "Deliveries that failed and wait for their next attempt",
            registry=registry,
        )
        self.latency = Histogram(
            "notification_delivery_latency_seconds",
            "From recording a delivery to its successful sending",
            ["channel"],
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        self.sse_streams = Gauge(
            "notifications_sse_streams_open",
            "Live status streams (Server-Sent Events) open in this process",
            registry=registry,
        )
