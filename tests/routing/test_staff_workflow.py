"""Staff workflow over HTTP, with its events on the real broker: each step and each refusal."""

from __future__ import annotations

import io

from PIL import Image

from shared.events import Topic
from tests.routing.conftest import HANOI, Routing
from tests.routing.workflow import (
    PNG,
    announced,
    detail,
    files,
    new,
    post,
    refused_changes_nothing,
)


async def test_reject_reroutes_and_never_returns_to_a_rejecter(routing: Routing) -> None:
    a = await new(routing)
    url = f"/api/v1/assignments/{a['id']}/reject"
    first = await post(routing, "phu-hoi-ward", url, json={"reason": "district road"})
    assert (first.json()["agency_id"], first.json()["rejected_by"]) == (
        "thuan-hoa-district",
        ["phu-hoi-ward"],
    )
    entry = first.json()["history"][-1]
    assert (entry["action"], entry["note"], entry["by"]["agency_id"]) == (
        "reject",
        "district road",
        "phu-hoi-ward",
    )
    second = await post(routing, "thuan-hoa-district", url, json={"reason": "not ours"})
    assert (second.json()["agency_id"], second.json()["attempt"]) == ("ioc", 3)
    assert await announced(routing, a["report_id"]) == ["report.assigned"] * 3


async def test_the_triage_desk_cannot_reject_and_nothing_changes(routing: Routing) -> None:
    a = await new(routing, point=HANOI)
    r = await refused_changes_nothing(routing, a, "ioc", "reject", json={"reason": "x"})
    assert (r.status_code, r.json()["error"]["code"]) == (409, "invalid_transition")


async def test_reroute_emits_assigned_with_next_attempt(routing: Routing) -> None:
    a = await new(routing)
    await post(
        routing, "phu-hoi-ward", f"/api/v1/assignments/{a['id']}/reject", json={"reason": "x"}
    )
    events = await routing.events.wait(Topic.REPORT_ASSIGNED, a["report_id"], count=2)
    assert [(e.data["attempt"], e.data["reason"]) for e in events][-1] == (2, "reroute")


async def test_other_agency_gets_404(routing: Routing) -> None:
    a = await new(routing)
    auth = await routing.auth("vinh-ninh-ward")
    got = await routing.client.get(f"/api/v1/assignments/{a['id']}", headers=auth)
    resolve = await routing.client.post(
        f"/api/v1/assignments/{a['id']}/resolve", json={"note": "x"}, headers=auth
    )
    assert (got.status_code, resolve.status_code) == (404, 404)


async def test_other_agency_queue_does_not_list_it(routing: Routing) -> None:
    a = await new(routing)
    auth = await routing.auth("vinh-ninh-ward")
    r = await routing.client.get(
        "/api/v1/assignments", params={"report_id": a["report_id"]}, headers=auth
    )
    assert r.json()["items"] == []


async def test_staff_cannot_use_operator_actions(routing: Routing) -> None:
    a = await new(routing)
    r = await refused_changes_nothing(
        routing, a, "phu-hoi-ward", "dismiss", json={"reason": "spam"}
    )
    assert r.status_code == 403


async def test_accept_start_resolve_with_photo(routing: Routing) -> None:
    a = await new(routing)
    base = f"/api/v1/assignments/{a['id']}"
    accepted = await post(routing, "phu-hoi-ward", f"{base}/accept")
    assert accepted.json()["status"] == "accepted"
    assert (await announced(routing, a["report_id"]))[-1] == "report.accepted"
    started = await post(routing, "phu-hoi-ward", f"{base}/start", json={"note": "crew on site"})
    assert (started.json()["status"], started.json()["history"][-1]["note"]) == (
        "in_progress",
        "crew on site",
    )
    assert (await announced(routing, a["report_id"]))[-1] == "report.in_progress"
    done = await post(
        routing,
        "phu-hoi-ward",
        f"{base}/resolve",
        data={"note": "cleared"},
        files=[("photos", ("after.png", io.BytesIO(PNG), "image/png"))],
    )
    assert done.status_code == 200, done.text
    assert (done.json()["status"], len(done.json()["photo_urls"])) == ("resolved", 1)
    [stored_file] = await files(routing, a["id"])
    assert "pending" not in stored_file["metadata"]  # confirmed with the resolve
    [resolved] = await routing.events.wait(Topic.REPORT_RESOLVED, a["report_id"])
    assert resolved.data["photo_urls"] == done.json()["photo_urls"]
    photo = await routing.client.get(resolved.data["photo_urls"][0].split("8002", 1)[1])
    stored = Image.open(io.BytesIO(photo.content))
    assert (stored.size, photo.headers["content-type"]) == ((8, 6), "image/png")
    assert "GPS" not in stored.info


async def test_progress_events_published_in_order(routing: Routing) -> None:
    a = await new(routing)
    base = f"/api/v1/assignments/{a['id']}"
    await post(routing, "phu-hoi-ward", f"{base}/accept")
    await post(routing, "phu-hoi-ward", f"{base}/start")
    [accepted] = await routing.events.wait(Topic.REPORT_ACCEPTED, a["report_id"])
    [started] = await routing.events.wait(Topic.REPORT_IN_PROGRESS, a["report_id"])
    assert accepted.sequence < started.sequence
    assert (started.data["assignment_id"], started.data["agency_id"]) == (a["id"], "phu-hoi-ward")


async def test_starting_before_accepting_is_allowed_but_accepting_after_is_not(
    routing: Routing,
) -> None:
    a = await new(routing)
    await post(routing, "phu-hoi-ward", f"/api/v1/assignments/{a['id']}/start")
    r = await refused_changes_nothing(routing, a, "phu-hoi-ward", "accept")
    assert (r.status_code, r.json()["error"]["code"]) == (409, "invalid_transition")


async def test_resolving_twice_is_a_conflict(routing: Routing) -> None:
    a = await new(routing)
    url = f"/api/v1/assignments/{a['id']}/resolve"
    await post(routing, "phu-hoi-ward", url, json={"note": "done"})
    again = await refused_changes_nothing(
        routing, a, "phu-hoi-ward", "resolve", json={"note": "again"}
    )
    assert (again.status_code, again.json()["error"]["code"]) == (409, "invalid_transition")
    assert (await detail(routing, a["id"]))["note"] == "done"


async def test_transfer_emits_assigned_reason_transfer(routing: Routing) -> None:
    a = await new(routing)
    r = await post(
        routing,
        "phu-hoi-ward",
        f"/api/v1/assignments/{a['id']}/transfer",
        json={"agency_id": "hue-urenco", "note": "garbage, not encroachment"},
    )
    assert (r.json()["agency_id"], r.json()["status"], r.json()["attempt"]) == (
        "hue-urenco",
        "assigned",
        2,
    )
    entry = r.json()["history"][-1]
    assert (entry["from_agency"], entry["to_agency"]) == ("phu-hoi-ward", "hue-urenco")
    events = await routing.events.wait(Topic.REPORT_ASSIGNED, a["report_id"], count=2)
    assert (events[-1].data["reason"], events[-1].data["attempt"]) == ("transfer", 2)
    # The former agency no longer sees it; the new one does.
    gone = await routing.client.get(
        f"/api/v1/assignments/{a['id']}", headers=await routing.auth("phu-hoi-ward")
    )
    assert gone.status_code == 404


async def test_transfer_to_an_unknown_agency_refused_and_nothing_changes(
    routing: Routing,
) -> None:
    a = await new(routing)
    r = await refused_changes_nothing(
        routing, a, "phu-hoi-ward", "transfer", json={"agency_id": "nowhere"}
    )
    assert (r.status_code, r.json()["error"]["code"]) == (422, "unknown_agency")


async def test_history_records_staff_not_reporter(routing: Routing) -> None:
    a = await new(routing)
    r = await post(routing, "phu-hoi-ward", f"/api/v1/assignments/{a['id']}/accept")
    entry = r.json()["history"][-1]
    assert (entry["action"], entry["by"]["agency_id"]) == ("accept", "phu-hoi-ward")
