"""Routing's lifecycle events on Kafka update the public view, in any order, delivered twice;
the tracking token gives the timeline, rating and reopening."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from shared.events import (
    CloudEvent,
    ReportAcceptedV1,
    ReportAssignedV1,
    ReportResolvedV1,
    Topic,
    utcnow,
)
from tests.intake.conftest import Running, lifecycle, report_body
from tests.support import eventually

NOW = utcnow()


def assigned(rid: str, seq: int = 1, agency: str = "roads") -> CloudEvent:
    data = ReportAssignedV1(
        report_id=rid,
        assignment_id=f"as-{seq}",
        agency_id=agency,
        agency_name=f"Agency {agency}",
        category="pothole",
        due_at=NOW + timedelta(days=3),
        attempt=1,
        assigned_at=NOW,
    )
    return lifecycle(rid, Topic.REPORT_ASSIGNED, seq, data)


def started(rid: str, seq: int = 2) -> CloudEvent:
    data = ReportAcceptedV1(report_id=rid, assignment_id="as-1", agency_id="roads", at=NOW)
    return lifecycle(rid, Topic.REPORT_IN_PROGRESS, seq, data)


def resolved(rid: str, seq: int = 3) -> CloudEvent:
    data = ReportResolvedV1(
        report_id=rid, assignment_id="as-1", agency_id="roads", note="Đã vá", resolved_at=NOW
    )
    return lifecycle(rid, Topic.REPORT_RESOLVED, seq, data)


async def new_report(client: httpx.AsyncClient) -> tuple[str, str]:
    body = (await client.post("/api/v1/reports", json=report_body())).json()
    return body["id"], body["tracking_token"]


async def view_when(client: httpx.AsyncClient, rid: str, **expected: Any) -> dict[str, Any]:
    async def probe() -> dict[str, Any] | None:
        view = (await client.get(f"/api/v1/reports/{rid}")).json()
        return view if all(view.get(k) == v for k, v in expected.items()) else None

    return await eventually(probe, what=f"view {expected}")


async def test_assigned_event_sets_status_agency_and_due_time(running: Running) -> None:
    async with running.client() as client:
        rid, _ = await new_report(client)
        event = assigned(rid)
        await running.publish(event)
        view = await view_when(client, rid, status="assigned")
    due = event.payload(ReportAssignedV1).due_at
    assert view["agency_name"] == "Agency roads"
    # the event's due time itself (MongoDB keeps milliseconds)
    assert abs(datetime.fromisoformat(view["expected_at"]) - due) < timedelta(milliseconds=1)
    assert view["overdue"] is False


async def test_the_view_writes_the_due_time_on_the_city_clock_in_the_readers_language(
    running: Running,
) -> None:
    async with running.client() as client:
        rid, _ = await new_report(client)
        event = assigned(rid)
        await running.publish(event)
        vi = await view_when(client, rid, status="assigned")
        en = (await client.get(f"/api/v1/reports/{rid}", headers={"Accept-Language": "en"})).json()
    hue = event.payload(ReportAssignedV1).due_at.astimezone(ZoneInfo("Asia/Ho_Chi_Minh"))
    assert vi["expected_at_text"].startswith(f"{hue:%H:%M} thứ ")
    assert vi["expected_at_text"].endswith(f", {hue:%d/%m/%Y}")
    assert en["expected_at_text"].endswith(f"{hue:%A}, {hue.day} {hue:%b %Y}")


async def test_out_of_order_and_duplicated_events_end_resolved(running: Running) -> None:
    async with running.client() as client:
        rid, _ = await new_report(client)
        for event in (resolved(rid), resolved(rid), started(rid), assigned(rid), assigned(rid)):
            await running.publish(event)
        await view_when(client, rid, agency_id="roads")
        view = await view_when(client, rid, status="resolved")
    assert view["status_notes"] == "Đã vá"


async def test_timeline_needs_the_tracking_token(running: Running) -> None:
    async with running.client() as client:
        rid, token = await new_report(client)
        denied = await client.get(f"/api/v1/reports/{rid}/timeline")
        ok = await client.get(
            f"/api/v1/reports/{rid}/timeline", headers={"X-Tracking-Token": token}
        )
    assert denied.status_code == 403
    assert denied.json()["error"]["code"] == "invalid_token"
    assert ok.json()["entries"][0]["type"] == "report.created"


async def test_rating_before_resolution_is_refused(running: Running) -> None:
    async with running.client() as client:
        rid, token = await new_report(client)
        r = await client.post(
            f"/api/v1/reports/{rid}/rating", json={"rating": 5}, headers={"X-Tracking-Token": token}
        )
        after = (await client.get(f"/api/v1/reports/{rid}")).json()
    assert (r.status_code, r.json()["error"]["code"]) == (409, "not_resolved")
    assert after["status"] == "received"
    assert await running.db.outbox.count_documents({"subject": rid, "type": "report.rated"}) == 0


async def test_rating_a_resolved_report_closes_it_and_reopen_brings_it_back(
    running: Running,
) -> None:
    async with running.client() as client:
        rid, token = await new_report(client)
        await running.publish(assigned(rid))
        await running.publish(resolved(rid))
        await view_when(client, rid, status="resolved")
        auth = {"X-Tracking-Token": token}
        rated = await client.post(
            f"/api/v1/reports/{rid}/rating", json={"rating": 4, "comment": "ok"}, headers=auth
        )
        reopened = await client.post(
            f"/api/v1/reports/{rid}/reopen", json={"reason": "still broken"}, headers=auth
        )
        timeline = (await client.get(f"/api/v1/reports/{rid}/timeline", headers=auth)).json()
    assert rated.json()["status"] == "closed"
    assert reopened.json()["status"] == "received"
    types = [e["type"] for e in timeline["entries"]]
    assert {"report.rated", "report.closed", "report.reopened", "report.resolved"} <= set(types)
    outbox = running.db.outbox
    emitted = {d["type"] async for d in outbox.find({"subject": rid})}
    assert {"report.rated", "report.closed", "report.reopened"} <= emitted


async def test_reconciler_reannounces_a_stale_received_report(running: Running) -> None:
    async with running.client() as client:
        rid, _ = await new_report(client)
    later = utcnow() + timedelta(seconds=running.settings.reconcile_after_s + 1)
    assert await running.intake.upkeep.reconcile_once(later) >= 1
    created = [d async for d in running.db.outbox.find({"subject": rid, "type": "report.created"})]
    assert len(created) == 2
    assert created[0]["_id"] != created[1]["_id"]
    assert created[0]["event"]["data"] == created[1]["event"]["data"]
    assert await running.intake.upkeep.reconcile_once(later) == 0  # not again within the interval


async def test_autoclose_closes_an_old_resolved_report(running: Running) -> None:
    async with running.client() as client:
        rid, _ = await new_report(client)
        await running.publish(resolved(rid))
        await view_when(client, rid, status="resolved")
        later = utcnow() + timedelta(days=running.settings.autoclose_after_days + 1)
        await running.intake.upkeep.autoclose_once(later)
        view = await view_when(client, rid, status="closed")
    closing = await running.db.outbox.find_one({"subject": rid, "type": "report.closed"})
    assert view["status"] == "closed"
    assert closing is not None
    assert closing["event"]["data"]["reason"] == "auto"


async def test_a_reports_own_events_are_numbered_by_the_report_without_a_counter_document(
    running: Running,
) -> None:
    async with running.client() as client:
        rid, token = await new_report(client)
        await running.publish(resolved(rid))
        await view_when(client, rid, status="resolved")
        auth = {"X-Tracking-Token": token}
        await client.post(f"/api/v1/reports/{rid}/rating", json={"rating": 5}, headers=auth)
        await client.post(f"/api/v1/reports/{rid}/reopen", json={"reason": "no"}, headers=auth)
    outbox = running.db.outbox.find({"subject": rid}).sort("ts", 1)
    numbered = [(d["type"], d["event"]["sequence"]) async for d in outbox]
    assert numbered == [
        ("report.created", 1),
        ("report.rated", 2),
        ("report.closed", 3),
        ("report.reopened", 4),
    ]
    assert await running.db.sequences.find_one({"_id": rid}) is None
    assert (await running.report_doc(rid))["sequence"] == 4
