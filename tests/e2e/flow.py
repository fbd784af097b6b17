"""What the end-to-end tests ask of the running stack: HTTP helpers, delivery log, metrics."""

from __future__ import annotations

from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families

from tests.e2e.conftest import Stack


async def get_json(client: httpx.AsyncClient, url: str, **kw: Any) -> Any:
    response = await client.get(url, **kw)
    return response.json() if response.status_code == 200 else None


async def token(client: httpx.AsyncClient, stack: Stack, username: str) -> str:
    response = await client.post(
        stack.url("routing") + "/api/v1/auth/token",
        data={"username": username, "password": "demo"},
    )
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


async def settled_resident_emails(
    client: httpx.AsyncClient, stack: Stack, report_id: str
) -> list[dict[str, Any]] | None:
    """The resident's email deliveries once there are three and none is still to be sent."""
    auth = {"Authorization": f"Bearer {await token(client, stack, 'operator')}"}
    log = await get_json(
        client,
        stack.url("notify") + "/api/v1/notifications",
        params={"report_id": report_id, "channel": "email", "recipient_kind": "resident"},
        headers=auth,
    )
    items: list[dict[str, Any]] = (log or {}).get("items", [])
    if len(items) < 3 or any(i["status"] in ("pending", "failed") for i in items):
        return None
    return items


# (series, labels it must carry, minimum value, exact?) per service, for the one report above.
EXPECTED_METRICS: dict[str, list[tuple[str, dict[str, str], float, bool]]] = {
    "intake": [
        (
            "http_requests_total",
            {"route": "/api/v1/reports", "method": "POST", "status": "201"},
            1,
            True,
        ),
        ("events_published_total", {"topic": "report.created"}, 1, False),
        ("events_consumed_total", {"topic": "report.assigned", "outcome": "processed"}, 1, False),
        ("events_consumed_total", {"topic": "report.resolved", "outcome": "processed"}, 1, False),
    ],
    "routing": [
        ("events_consumed_total", {"topic": "report.created", "outcome": "processed"}, 1, False),
        ("events_published_total", {"topic": "report.assigned"}, 1, False),
        ("events_published_total", {"topic": "report.resolved"}, 1, False),
    ],
    "notify": [
        ("events_consumed_total", {"topic": "report.created", "outcome": "processed"}, 1, False),
        ("events_consumed_total", {"topic": "report.resolved", "outcome": "processed"}, 1, False),
    ],
    "analytics": [
        ("events_consumed_total", {"topic": "report.created", "outcome": "processed"}, 1, False),
        ("events_consumed_total", {"topic": "report.resolved", "outcome": "processed"}, 1, False),
    ],
}


def metric_value(text: str, name: str, labels: dict[str, str]) -> float:
    """Sum of the samples of `name` whose labels include `labels` (0 when there are none)."""
    return sum(
        sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == name and labels.items() <= sample.labels.items()
    )


async def metrics_text(client: httpx.AsyncClient, stack: Stack, service: str) -> str:
    return (await client.get(stack.url(service) + "/metrics")).text
