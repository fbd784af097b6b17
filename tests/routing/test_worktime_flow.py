"""Recategorizing, closure days and disputed reports over HTTP, with their events on the real
broker and database."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from shared.events import CloudEvent, ReportCreatedV1, SuggestionV1, Topic, TriageV1
from tests.routing.conftest import PHU_HOI, Routing
from tests.routing.workflow import announced, detail, new, post, refused_changes_nothing
from tests.support import unique


async def test_recategorize_emits_recategorized_then_reroute_in_one_commit(
    routing: Routing,
) -> None:
    a = await new(routing, category="sidewalk-encroachment")
    r = await post(
        routing,
        "operator",
        f"/api/v1/assignments/{a['id']}/category",
        json={"category": "garbage", "reason": "rubbish heap"},
    )
    assert r.status_code == 200, r.text
    assert (r.json()["category"], r.json()["agency_id"], r.json()["reason"]) == (
        "garbage",
        "hue-urenco",
        "reroute",
    )
    [recat] = await routing.events.wait(Topic.REPORT_RECATEGORIZED, a["report_id"])
    assert (recat.data["previous_category"], recat.data["category"]) == (
        "sidewalk-encroachment",
        "garbage",
    )
    assert (await announced(routing, a["report_id"]))[-2:] == [
        "report.recategorized",
        "report.assigned",
    ]


async def test_recategorize_refusals(routing: Routing) -> None:
    a = await new(routing, category="garbage")
    path = "category"
    same = await refused_changes_nothing(routing, a, "operator", path, json={"category": "garbage"})
    unknown = await refused_changes_nothing(routing, a, "operator", path, json={"category": "nope"})
    staff = await refused_changes_nothing(
        routing, a, "hue-urenco", path, json={"category": "other"}
    )
    assert (same.status_code, unknown.status_code, staff.status_code) == (409, 422, 403)
    assert unknown.json()["error"]["code"] == "unknown_category"


async def _closures(routing: Routing) -> list[dict[str, Any]]:
    r = await routing.client.get("/api/v1/admin/closures", headers=await routing.auth("admin"))
    assert r.status_code == 200, r.text
    return list(r.json()["items"])


async def test_an_admin_closure_day_moves_open_due_times_and_can_be_removed(
    routing: Routing,
) -> None:
    a = await new(routing, category="pothole")
    due = date.fromisoformat(a["due_at"][:10])
    admin = await routing.auth("admin")
    url = f"/api/v1/admin/closures/{due.isoformat()}"
    put = await routing.client.put(url, json={"reason": "typhoon"}, headers=admin)
    assert put.status_code == 200, put.text
    assert {"date": due.isoformat(), "reason": "typhoon", "agency_ids": []} in await _closures(
        routing
    )
    moved = await detail(routing, a["id"])
    assert moved["due_at"] > a["due_at"]
    assigned = await routing.events.wait(Topic.REPORT_ASSIGNED, a["report_id"], count=2)
    assert assigned[-1].data["due_at"].replace("Z", "+00:00")[:16] == moved["due_at"][:16]
    gone = await routing.client.delete(url, headers=admin)
    assert gone.status_code == 204
    assert (await detail(routing, a["id"]))["due_at"] == a["due_at"]


async def test_closure_refusals(routing: Routing) -> None:
    admin = await routing.auth("admin")
    day = (date(2031, 1, 6) + timedelta(days=0)).isoformat()
    unknown = await routing.client.put(
        f"/api/v1/admin/closures/{day}", json={"reason": "x", "agency_ids": ["nope"]}, headers=admin
    )
    bad_date = await routing.client.put(
        "/api/v1/admin/closures/2031-02-30", json={"reason": "x"}, headers=admin
    )
    absent = await routing.client.delete(f"/api/v1/admin/closures/{day}", headers=admin)
    staff = await routing.client.get("/api/v1/admin/closures", headers=await routing.auth("ioc"))
    assert [unknown.status_code, bad_date.status_code, absent.status_code, staff.status_code] == [
        422,
        422,
        404,
        403,
    ]
    assert unknown.json()["error"]["code"] == "unknown_agency"


async def test_a_disputed_report_waits_in_triage_with_its_suggestions(routing: Routing) -> None:
    report_id = unique("r-")
    event = await routing.publish_created("sidewalk-encroachment", PHU_HOI, report_id, send=False)
    triage = TriageV1(
        model_version="m1",
        suggestions=[SuggestionV1(category="garbage", confidence=0.9)],
        chosen_by="resident",
        disputed=True,
    )
    data = ReportCreatedV1.model_validate(event.data).model_copy(update={"triage": triage})
    await routing.send(CloudEvent(**{**event.model_dump(), "data": data.model_dump(mode="json")}))
    a = await routing.assignment(report_id)
    assert (a["agency_id"], a["reason"], a["disputed"]) == ("ioc", "disputed", True)
    assert a["suggestions"] == [{"category": "garbage", "confidence": 0.9}]
