"""Per-client rate limits, by name: a token bucket per client address in this replica's memory
(the backstop: across replicas the ingress limits, see deploy/ and the README)."""

from __future__ import annotations

from collections.abc import Mapping

from services.intake.domain.errors import RateLimited
from services.intake.domain.ratelimit import TokenBuckets
from services.intake.metrics import IntakeMetrics

# The limits app.py wires; `api.deps.rate_limit(name)` takes from one of them.
CREATE, READ, ACT, RESIDENT_TOKEN, SUGGEST = "create", "read", "act", "resident_token", "suggest"


class Quota:
    """One limit: `take(client)` passes, or raises `RateLimited` with the seconds to wait."""

    def __init__(self, buckets: TokenBuckets, metrics: IntakeMetrics, name: str = CREATE) -> None:
        self.buckets = buckets
        self.metrics = metrics
        self.name = name

    def take(self, client: str) -> None:
        wait = self.buckets.take(client)
        if wait > 0:
            self.metrics.rate_limited.labels(self.name).inc()
            retry = max(1, int(wait + 0.999))
            raise RateLimited(f"too many requests from this client; retry in {retry}s", retry)


class Quotas:
    def __init__(self, quotas: Mapping[str, Quota]) -> None:
        self.quotas = dict(quotas)

    def take(self, name: str, client: str) -> None:
        self.quotas[name].take(client)
