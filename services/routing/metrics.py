"""Routing's business metrics (agency ids are bounded by the jurisdiction)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge


class RoutingMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.open_assignments = Gauge(
            "routing_open_assignments", "Open assignments by agency", ["agency"], registry=registry
        )
        self.overdue_assignments = Gauge(
            "routing_overdue_assignments",
            "Open assignments past their due time, by agency",
            ["agency"],
            registry=registry,
        )
        self.assignments_created = Counter(
            "routing_assignments_total",
            "Assignments made, by reason (rule, fallback, reroute, transfer, manual)",
            ["reason"],
            registry=registry,
        )
        self.escalations = Counter(
            "routing_escalations_total", "Deadline breaches escalated", registry=registry
        )
        self.unknown_reopens = Counter(
            "routing_unknown_reopen",
            "report.reopened events for a report routing never saw (ignored)",
            registry=registry,
        )
