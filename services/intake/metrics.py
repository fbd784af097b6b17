"""Intake's business metrics, on the service's registry (built once, by `app.py`)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter


class IntakeMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.created = Counter(
            "intake_reports_created_total",
            "Reports created, by channel and category",
            ["channel", "category"],
            registry=registry,
        )
        self.photo_rejections = Counter(
            "intake_photo_rejections_total",
            "Photos refused, by reason",
            ["reason"],
            registry=registry,
        )
        self.idempotent_replays = Counter(
            "intake_idempotent_replays_total",
            "Creates answered from an Idempotency-Key",
            registry=registry,
        )
        self.rate_limited = Counter(
            "intake_rate_limited_total",
            "Requests refused by a per-client rate limit, by limit",
            ["limit"],
            registry=registry,
        )
        self.reannounced = Counter(
            "intake_reports_reannounced_total",
            "report.created re-published by the reconciler",
            registry=registry,
        )
        self.photos_swept = Counter(
            "intake_orphan_photos_deleted_total",
            "Pending photo files deleted because their report was never committed",
            registry=registry,
        )
        self.autoclosed = Counter(
            "intake_reports_autoclosed_total",
            "Resolved reports closed without a rating",
            registry=registry,
        )
