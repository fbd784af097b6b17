"""Every recurring query of the running system is served by an index, with no `$or`.

The whole system runs with the profiler on; a report goes through its life (posted with and
without a photo, assigned, accepted, resolved, rated; read through every public and staff
view) while the background loops run on short intervals. Then each distinct query shape the
four services sent is explained on the embedded database: a collection scan fails the test,
so a new query that is not served by an index cannot slip in unnoticed.
"""

from __future__ import annotations

import io
import json
from datetime import timedelta
from typing import Any

import httpx
import pytest
from PIL import Image
from pymongo import AsyncMongoClient

from shared.events import utcnow
from shared.mongo import Document
from tests.conftest import Infra
from tests.e2e.conftest import Stack
from tests.e2e.flow import get_json, token
from tests.perf.plans import Query, bounded_without_index, has_or, plan_stages, queries_of
from tests.support import eventually

HUE = {"lat": 16.4637, "lon": 107.5909}
# Collections whose size does not grow with the reports (read whole, at start or by an admin).
CONFIGURATION = {
    ("routing", "accounts"): "staff logins: tens, listed by an admin",
    ("routing", "areas"): "the jurisdiction's areas: hundreds, loaded when it changes",
}
# Whole reads on purpose, by shape: nothing to narrow them to.
WHOLE_READS = {
    "intake: triage_examples {} sort={}": "the nightly trainer reads every correction",
}
# Issue 14's recurring queries: the walk must send them (so the plans below cover them).
ISSUE_14 = {
    "intake: triage_models {'promoted': 'bool'} sort={'_id': 'int', 'promoted': 'int'}": (
        "every replica's model refresh, every TRIAGE_REFRESH_S"
    ),
    "intake: triage_examples {} sort={}": "the trainer's read of the corrections",
    "routing: assignments {'due_at': {'$gte': 'datetime'}, 'status': 'str'} sort={}": (
        "a closure day re-times the open assignments due from the day before it"
    ),
}
DEV_OPEN311_KEY = "dev-open311-key"


def _jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 40, 40)).save(out, "JPEG")
    return out.getvalue()


async def _walk_a_report(client: httpx.AsyncClient, stack: Stack) -> None:
    intake, routing = stack.url("intake"), stack.url("routing")
    await eventually(lambda: get_json(client, intake + "/api/v1/categories"), timeout=60)
    body = {"category": "pothole", **HUE, "description": "Ổ gà", "attributes": {"size": "large"}}
    created = await client.post(
        intake + "/api/v1/reports", json={**body, "contact": {"email": "a@example.org"}}
    )
    assert created.status_code == 201, created.text
    report, secret = created.json()["id"], created.json()["tracking_token"]
    with_photo = await client.post(
        intake + "/api/v1/reports",
        data={"report": json.dumps(body)},
        files={"photos": ("p.jpg", _jpeg(), "image/jpeg")},
    )
    assert with_photo.status_code == 201, with_photo.text

    async def assigned() -> Any:
        view = await get_json(client, f"{intake}/api/v1/reports/{report}")
        return view if view and view["status"] == "assigned" else None

    view = await eventually(assigned, timeout=60, what="assigned")
    staff = {"Authorization": f"Bearer {await token(client, stack, view['agency_id'])}"}
    queue = await get_json(client, routing + "/api/v1/assignments", headers=staff)
    [mine] = [a for a in queue["items"] if a["report_id"] == report]
    for step in ("accept", "start"):
        await client.post(f"{routing}/api/v1/assignments/{mine['id']}/{step}", headers=staff)
    resolved = await client.post(
        f"{routing}/api/v1/assignments/{mine['id']}/resolve", json={"note": "xong"}, headers=staff
    )
    assert resolved.status_code == 200, resolved.text

    async def done() -> Any:
        v = await get_json(client, f"{intake}/api/v1/reports/{report}")
        return v if v and v["status"] == "resolved" else None

    await eventually(done, timeout=60, what="resolved")
    tracking = {"X-Tracking-Token": secret}
    await client.get(f"{intake}/api/v1/reports/{report}/timeline", headers=tracking)
    await client.post(
        f"{intake}/api/v1/reports/{report}/rating", json={"rating": 5}, headers=tracking
    )
    await _read_everything(client, stack, report)
    await _change_category_closures_and_retrain(client, stack, with_photo.json()["id"])


async def _change_category_closures_and_retrain(
    client: httpx.AsyncClient, stack: Stack, report: str
) -> None:
    """Issue 14: an operator's correction (a training example in intake), a closure day added
    and removed (routing re-times open assignments), a retraining run (intake's trainer)."""
    intake, routing = stack.url("intake"), stack.url("routing")
    operator = {"Authorization": f"Bearer {await token(client, stack, 'operator')}"}
    admin = {"Authorization": f"Bearer {await token(client, stack, 'admin')}"}

    async def assignment() -> Any:
        queue = await get_json(client, routing + "/api/v1/assignments", headers=operator)
        return next((a for a in (queue or {}).get("items", []) if a["report_id"] == report), None)

    mine = await eventually(assignment, timeout=60, what="second report assigned")
    changed = await client.post(
        f"{routing}/api/v1/assignments/{mine['id']}/category",
        json={"category": "flooding", "reason": "cống"},
        headers=operator,
    )
    assert changed.status_code == 200, changed.text
    day = (utcnow() + timedelta(days=1)).date().isoformat()
    closure = f"{routing}/api/v1/admin/closures/{day}"
    added = await client.put(closure, json={"reason": "bão"}, headers=admin)
    assert added.status_code == 200, added.text
    assert (await client.delete(closure, headers=admin)).status_code < 300
    trained = await client.post(intake + "/api/v1/triage/retrain", headers=operator, timeout=300)
    assert trained.status_code == 200, trained.text


async def _read_everything(client: httpx.AsyncClient, stack: Stack, report: str) -> None:
    intake, notify, analytics = stack.url("intake"), stack.url("notify"), stack.url("analytics")
    operator = {"Authorization": f"Bearer {await token(client, stack, 'operator')}"}
    reads: list[tuple[str, dict[str, Any]]] = [
        (intake + "/api/v1/reports", {}),
        (intake + "/api/v1/reports", {"status": "resolved", "category": "pothole"}),
        (intake + "/api/v1/reports/nearby", {**HUE, "category": "pothole"}),
        (intake + "/open311/v2/requests.json", {}),
        (intake + "/open311/v2/servicerequestupdates.json", {}),
        (notify + "/api/v1/notifications", {"report_id": report}),
        (analytics + "/api/v1/stats/summary", {}),
        (analytics + "/api/v1/stats/agencies", {}),
        (analytics + "/api/v1/stats/timeseries", {}),
        (analytics + "/api/v1/stats/grid", {}),
        (stack.url("routing") + "/api/v1/assignments", {"overdue": "true"}),
    ]
    for url, params in reads:
        answer = await client.get(url, params=params, headers=operator)
        assert answer.status_code < 500, (url, answer.text)


async def _recorded(infra: Infra, dbs: dict[str, str]) -> dict[str, tuple[str, Query]]:
    """One example per query shape, by shape, with the service that sent it."""
    client: AsyncMongoClient[Document] = AsyncMongoClient(infra.mongodb_uri)
    shapes: dict[str, tuple[str, Query]] = {}
    for svc, name in dbs.items():
        async for entry in client[name]["system.profile"].find():
            for query in queries_of(entry):
                if not query.collection.startswith("system."):
                    shapes.setdefault(f"{svc}: {query.shape}", (name, query))
    await client.close()
    return shapes


@pytest.fixture(scope="module")
async def shapes(
    profiled: tuple[Stack, dict[str, str]], infra: Infra
) -> dict[str, tuple[str, Query]]:
    stack, dbs = profiled
    async with httpx.AsyncClient(timeout=30) as client:
        await _walk_a_report(client, stack)
    walked = await _profiled_counts(infra, dbs)

    async def loops_ran() -> bool:  # every service's database saw a few more operations
        now = await _profiled_counts(infra, dbs)
        return all(now[svc] >= walked[svc] + 3 for svc in dbs)

    await eventually(loops_ran, timeout=60, interval=0.5, what="background loops ran")
    return await _recorded(infra, dbs)


async def _profiled_counts(infra: Infra, dbs: dict[str, str]) -> dict[str, int]:
    client: AsyncMongoClient[Document] = AsyncMongoClient(infra.mongodb_uri)
    counts = {
        svc: await client[db]["system.profile"].count_documents({}) for svc, db in dbs.items()
    }
    await client.close()
    return counts


def test_the_walk_recorded_queries_of_every_service(shapes: dict[str, Any]) -> None:
    services = {key.split(":")[0] for key in shapes}
    assert services == {"intake", "routing", "notify", "analytics"}


def test_the_walk_recorded_the_issue_14_queries(shapes: dict[str, Any]) -> None:
    missing = [f"{shape} ({why})" for shape, why in ISSUE_14.items() if shape not in shapes]
    assert not missing, "\n".join(missing)


def test_no_recurring_query_uses_or(shapes: dict[str, tuple[str, Query]]) -> None:
    with_or = [shape for shape, (_, q) in shapes.items() if has_or(q.filter)]
    assert not with_or, "\n".join(with_or)


async def test_every_recurring_query_is_served_by_an_index(
    shapes: dict[str, tuple[str, Query]], infra: Infra
) -> None:
    client: AsyncMongoClient[Document] = AsyncMongoClient(infra.mongodb_uri)
    scans = []
    for shape, (db, query) in sorted(shapes.items()):
        service = shape.split(":")[0]
        configuration = (service, query.collection) in CONFIGURATION
        if bounded_without_index(query) or configuration or shape in WHOLE_READS:
            continue
        stages = await plan_stages(client[db], query)
        if "IXSCAN" not in stages:
            scans.append(f"{shape} -> {stages}")
    await client.close()
    assert not scans, "\n".join(scans)
