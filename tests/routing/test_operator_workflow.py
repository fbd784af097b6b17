"""Operator workflow and deadlines over HTTP, with their events on the real broker."""

from __future__ import annotations

import asyncio

from shared.events import Topic
from tests.routing.conftest import HANOI, VINH_NINH, Routing
from tests.routing.workflow import (
    detail,
    make_overdue,
    new,
    post,
    refused_changes_nothing,
)
from tests.support import unique


async def test_operator_assigns_from_triage_queue(routing: Routing) -> None:
    a = await new(routing, point=HANOI)
    triage = await routing.client.get("/api/v1/triage", headers=await routing.auth("operator"))
    assert a["id"] in {i["id"] for i in triage.json()["items"]}
    r = await post(
        routing,
        "operator",
        f"/api/v1/assignments/{a['id']}/assign",
        json={"agency_id": "hue-water"},
    )
    assert (r.json()["agency_id"], r.json()["reason"]) == ("hue-water", "manual")
    after = await routing.client.get("/api/v1/triage", headers=await routing.auth("operator"))
    assert a["id"] not in {i["id"] for i in after.json()["items"]}
    events = await routing.events.wait(Topic.REPORT_ASSIGNED, a["report_id"], count=2)
    assert (events[-1].data["agency_id"], events[-1].data["attempt"]) == ("hue-water", 2)


async def test_resolving_original_resolves_its_duplicates(routing: Routing) -> None:
    original = await new(routing)
    dup = await new(routing)
    r = await post(
        routing,
        "operator",
        f"/api/v1/assignments/{dup['id']}/duplicate",
        json={"duplicate_of": original["report_id"]},
    )
    assert (r.json()["status"], r.json()["duplicate_of"]) == ("duplicate", original["report_id"])
    [marked] = await routing.events.wait(Topic.REPORT_DUPLICATE, dup["report_id"])
    assert marked.data["duplicate_of"] == original["report_id"]
    await post(
        routing,
        "phu-hoi-ward",
        f"/api/v1/assignments/{original['id']}/resolve",
        json={"note": "ok"},
    )
    [resolved] = await routing.events.wait(Topic.REPORT_RESOLVED, dup["report_id"])
    assert resolved.data["note"] == "ok"
    after = await detail(routing, dup["id"])
    assert (after["status"], after["note"], after["history"][-1]["action"]) == (
        "resolved",
        "ok",
        "resolve",
    )


async def test_a_report_cannot_duplicate_itself(routing: Routing) -> None:
    a = await new(routing)
    r = await refused_changes_nothing(
        routing, a, "operator", "duplicate", json={"duplicate_of": a["report_id"]}
    )
    assert (r.status_code, r.json()["error"]["code"]) == (422, "invalid_duplicate")


async def test_dismiss_as_spam_emits_rejected(routing: Routing) -> None:
    a = await new(routing)
    await post(
        routing, "operator", f"/api/v1/assignments/{a['id']}/dismiss", json={"reason": "spam"}
    )
    [rejected] = await routing.events.wait(Topic.REPORT_REJECTED, a["report_id"])
    assert (rejected.data["reason"], rejected.data["by"]) == ("spam", "operator")
    assert (await detail(routing, a["id"]))["status"] == "rejected"
    again = await refused_changes_nothing(
        routing, a, "operator", "dismiss", json={"reason": "spam"}
    )
    assert again.status_code == 409


async def test_breach_escalates_exactly_once(routing: Routing) -> None:
    a = await new(routing, point=VINH_NINH)
    await make_overdue(routing, a["id"])
    deadlines = routing.api.deadlines
    await asyncio.gather(deadlines.check(), deadlines.check())
    await deadlines.check()
    outbox = routing.app.state.runtime.db.outbox
    count = await outbox.count_documents({"subject": a["report_id"], "type": "report.escalated"})
    [escalated] = await routing.events.wait(Topic.REPORT_ESCALATED, a["report_id"])
    assert (count, escalated.data["level"]) == (1, 1)


async def test_queue_lists_overdue_first_and_filters(routing: Routing) -> None:
    late = await new(routing, category="illegal-construction", point=VINH_NINH)
    await new(routing, category="illegal-construction", point=VINH_NINH)
    await make_overdue(routing, late["id"])
    auth = await routing.auth("vinh-ninh-ward")
    queue = await routing.client.get("/api/v1/assignments", headers=auth)
    only_late = await routing.client.get(
        "/api/v1/assignments",
        params={"overdue": "true", "category": "illegal-construction"},
        headers=auth,
    )
    assert queue.json()["items"][0]["overdue"] is True
    assert [i["id"] for i in only_late.json()["items"]] == [late["id"]]


async def test_not_overdue_filter_applies_before_the_limit(routing: Routing) -> None:
    category = unique("cat-")  # unknown: goes to the IOC, alone in its category
    late = await new(routing, category=category, point=HANOI)
    timely = await new(routing, category=category, point=HANOI)
    await make_overdue(routing, late["id"])  # sorted first by due time
    r = await routing.client.get(
        "/api/v1/assignments",
        params={"overdue": "false", "category": category, "limit": 1},
        headers=await routing.auth("operator"),
    )
    assert [i["id"] for i in r.json()["items"]] == [timely["id"]]
