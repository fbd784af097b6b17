"""Prometheus metrics every service exposes. One registry per app, so tests can run several apps."""

from __future__ import annotations

import time

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class ServiceMetrics:
    """The metric families of DESIGN.md section 7; services add business gauges to `registry`."""

    def __init__(self, service: str) -> None:
        self.service = service
        self.registry = CollectorRegistry()
        r = self.registry
        self.http_requests = Counter(
            "http_requests_total", "HTTP requests", ["route", "method", "status"], registry=r
        )
        self.http_latency = Histogram(
            "http_request_duration_seconds",
            "HTTP request latency",
            ["route", "method"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.events_consumed = Counter(
            "events_consumed_total",
            "Events consumed, by outcome (processed, duplicate, stale)",
            ["topic", "outcome"],
            registry=r,
        )
        self.events_failed = Counter(
            "events_failed_total", "Handler attempts that raised", ["topic"], registry=r
        )
        self.events_dead_lettered = Counter(
            "events_dead_lettered_total", "Events sent to the topic's DLQ", ["topic"], registry=r
        )
        self.handler_latency = Histogram(
            "event_handler_duration_seconds",
            "Event handler latency",
            ["topic"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.events_published = Counter(
            "events_published_total", "Events published by the outbox relay", ["topic"], registry=r
        )
        self.publish_failures = Counter(
            "events_publish_failures_total",
            "Outbox publish attempts that failed",
            ["topic"],
            registry=r,
        )
        self.outbox_pending = Gauge(
            "outbox_pending_events", "Outbox entries not yet acknowledged by the broker", registry=r
        )
        self.outbox_oldest_age = Gauge(
            "outbox_oldest_pending_age_seconds",
            "Age of the oldest pending outbox entry",
            registry=r,
        )
        self.consumer_lag = Gauge(
            "kafka_consumer_lag_messages",
            "Messages behind the partition end, by topic",
            ["topic"],
            registry=r,
        )
        self.dependency_up = Gauge(
            "dependency_up", "1 when the dependency answers", ["dependency"], registry=r
        )


KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


class HttpMetricsMiddleware:
    """Counts requests and times them by route template (bounded cardinality, never an id)."""

    def __init__(self, app: ASGIApp, metrics: ServiceMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            route = scope.get("route")
            path = getattr(route, "path", None) or "unmatched"
            method = scope.get("method", "GET")
            method = method if method in KNOWN_METHODS else "other"  # any token is a method
            self.metrics.http_requests.labels(path, method, str(status)).inc()
            self.metrics.http_latency.labels(path, method).observe(time.perf_counter() - start)
