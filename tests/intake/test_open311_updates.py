"""`servicerequestupdates` polled the way FixMyStreet does (perllib/Open311.pm
`get_service_request_updates`, Open311/GetServiceRequestUpdates.pm): GET with `api_key` (maybe
empty) and `jurisdiction_id`, `start_date`/`end_date` in W3C-DTF `Z` (the last 2 hours); read
with XML::Simple ForceArray on `request_update`; an update is skipped without `update_id` or
when its `updated_datetime`, re-formatted in UTC, is outside the window; `status` goes through
`map_state`; `update_id` is the comment's external id (seen once)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from services.intake.settings import DEV_OPEN311_KEY
from shared.events import (
    CloudEvent,
    ReportAcceptedV1,
    ReportAssignedV1,
    ReportResolvedV1,
    Topic,
    utcnow,
)
from tests.intake.conftest import Running, lifecycle, report_body
from tests.intake.test_open311_clients import fms_post, request_id_from_post, simple
from tests.support import eventually

BASE = "/open311/v2/"
FMT = "%Y-%m-%dT%H:%M:%SZ"  # DateTime::Format::W3CDTF of a UTC DateTime
# FixMyStreet's visible states (FixMyStreet::DB::Result::Problem) that map_state may yield
VISIBLE = {
    "confirmed",
    "investigating",
    "in progress",
    "planned",
    "action scheduled",
    "fixed",
    "fixed - council",
    "fixed - user",
    "unable to fix",
    "not responsible",
    "duplicate",
    "closed",
    "internal referral",
}


def map_state(status: str, extended_statuses: bool = False) -> str:
    state = status.lower().replace("_", " ")
    table = {
        "fixed": "fixed - council",
        "not councils responsibility": "not responsible",
        "no further action": "unable to fix",
        "open": "confirmed",
        "closed": "closed" if extended_statuses else "fixed - council",
    }
    return table.get(state, state)


def fms_window(hours: float = 2) -> dict[str, str]:
    end = datetime.now(UTC)
    return {
        "jurisdiction_id": "hue.example",
        "api_key": DEV_OPEN311_KEY,
        "start_date": (end - timedelta(hours=hours)).strftime(FMT),
        "end_date": end.strftime(FMT),
    }


def fms_updates(xml: bytes, params: dict[str, str]) -> list[dict[str, Any]]:
    """process_body + check_date: the updates FixMyStreet would turn into comments."""
    root = simple(xml)
    assert root.tag == "service_request_updates"
    kept = []
    for item in root.findall("request_update"):
        update = {child.tag: (child.text or None) for child in item}  # SuppressEmpty => undef
        if update.get("update_id") is None or not update.get("service_request_id"):
            continue
        when = datetime.fromisoformat(str(update["updated_datetime"])).astimezone(UTC).strftime(FMT)
        if when < params["start_date"] or when > params["end_date"]:
            continue
        kept.append(update)
    return kept


def assigned(rid: str, seq: int) -> CloudEvent:
    now = utcnow()
    data = ReportAssignedV1(
        report_id=rid,
        assignment_id="as-1",
        agency_id="roads",
        agency_name="Đội đường bộ",
        category="streetlight",
        due_at=now + timedelta(days=2),
        attempt=1,
        assigned_at=now,
    )
    return lifecycle(rid, Topic.REPORT_ASSIGNED, seq, data)


def started(rid: str, seq: int) -> CloudEvent:
    data = ReportAcceptedV1(
        report_id=rid, assignment_id="as-1", agency_id="roads", note="Đã cử đội", at=utcnow()
    )
    return lifecycle(rid, Topic.REPORT_IN_PROGRESS, seq, data)


def resolved(rid: str, seq: int) -> CloudEvent:
    data = ReportResolvedV1(
        report_id=rid,
        assignment_id="as-1",
        agency_id="roads",
        note="Đã thay bóng đèn",
        photo_urls=["https://routing.example/photos/p1.jpg"],
        resolved_at=utcnow(),
    )
    return lifecycle(rid, Topic.REPORT_RESOLVED, seq, data)


async def sent_by_fms(client: httpx.AsyncClient) -> str:
    rid = request_id_from_post(
        simple((await client.post(BASE + "requests.xml", data=fms_post())).content)
    )
    assert rid
    return rid


async def updates_of(
    client: httpx.AsyncClient, rid: str, count: int, fmt: str = "xml"
) -> tuple[list[dict[str, Any]], httpx.Response]:
    """Polls like FixMyStreet until the report has `count` updates."""

    async def probe() -> tuple[list[dict[str, Any]], httpx.Response] | None:
        params = fms_window()
        r = await client.get(f"{BASE}servicerequestupdates.{fmt}", params=params)
        assert r.status_code == 200, r.text
        found = fms_updates(r.content, params) if fmt == "xml" else r.json()
        mine = [u for u in found if u["service_request_id"] == rid]
        return (mine, r) if len(mine) >= count else None

    return await eventually(probe, what=f"{count} updates of {rid}")


async def test_lifecycle_of_a_request_fms_sent_reads_as_its_updates(running: Running) -> None:
    async with running.client() as client:
        rid = await sent_by_fms(client)
        for n, event in enumerate((assigned(rid, 1), started(rid, 2), resolved(rid, 3)), 1):
            await running.publish(event)  # one at a time: topics have no order between them
            mine, _ = await updates_of(client, rid, n)
    assert [u["status"] for u in mine] == ["investigating", "in_progress", "fixed"]
    assert [map_state(u["status"]) for u in mine] == [
        "investigating",
        "in progress",
        "fixed - council",
    ]
    assert all(map_state(u["status"]) in VISIBLE for u in mine)
    assert [u["external_status_code"] for u in mine] == ["assigned", "in_progress", "resolved"]
    assert [u["description"] for u in mine] == [
        "Đã chuyển đến Đội đường bộ",
        "Đã cử đội",
        "Đã thay bóng đèn",
    ]
    assert mine[0]["media_url"] is None  # empty element: XML::Simple gives undef
    assert mine[2]["media_url"] == "https://routing.example/photos/p1.jpg"
    assert len({u["update_id"] for u in mine}) == 3


async def test_update_ids_are_stable_across_polls(running: Running) -> None:
    async with running.client() as client:
        rid = await sent_by_fms(client)
        await running.publish(assigned(rid, 1))
        first, _ = await updates_of(client, rid, 1)
        again, _ = await updates_of(client, rid, 1)
    assert [u["update_id"] for u in first] == [u["update_id"] for u in again]
    assert first == again


async def test_late_older_event_repeats_the_status_in_force(running: Running) -> None:
    """Resolved arrives first, then routing's older in_progress: the second update must not
    move FixMyStreet's report back to 'in progress' (its newer comment time would let it)."""
    async with running.client() as client:
        rid = await sent_by_fms(client)
        await running.publish(resolved(rid, 3))
        await updates_of(client, rid, 1)
        await running.publish(started(rid, 2))
        mine, _ = await updates_of(client, rid, 2)
    assert [u["status"] for u in mine] == ["fixed", "fixed"]
    assert mine[1]["external_status_code"] == "in_progress"


async def test_json_carries_the_same_updates(running: Running) -> None:
    async with running.client() as client:
        rid = await sent_by_fms(client)
        await running.publish(assigned(rid, 1))
        xml_updates, _ = await updates_of(client, rid, 1)
        json_updates, r = await updates_of(client, rid, 1, fmt="json")
    assert r.headers["content-type"].startswith("application/json")
    assert json_updates[0]["update_id"] == xml_updates[0]["update_id"]
    assert json_updates[0]["status"] == "investigating"
    assert set(json_updates[0]) == {
        "update_id",
        "service_request_id",
        "status",
        "updated_datetime",
        "description",
        "media_url",
        "external_status_code",
    }


async def test_no_key_or_an_empty_key_is_answered(running: Running) -> None:
    """The extension says no API key is required; FixMyStreet sends `api_key=''` when it has
    none configured."""
    async with running.client() as client:
        params = fms_window()
        empty = await client.get(
            BASE + "servicerequestupdates.xml", params={**params, "api_key": ""}
        )
        del params["api_key"]
        none = await client.get(BASE + "servicerequestupdates.xml", params=params)
    assert empty.status_code == none.status_code == 200


async def test_reporter_words_and_contact_never_appear(running: Running) -> None:
    """Reopen reason and rating comment are the reporter's; the contact is theirs."""
    async with running.client() as client:
        body = (await client.post("/api/v1/reports", json=report_body())).json()
        rid, token = body["id"], body["tracking_token"]
        await running.publish(resolved(rid, 1))

        async def is_resolved() -> bool:
            return bool((await client.get(f"/api/v1/reports/{rid}")).json()["status"] == "resolved")

        await eventually(is_resolved, what="resolved")
        headers = {"X-Tracking-Token": token}
        reason = "Vẫn hỏng, gọi Trần Thị B 0901234567"
        r = await client.post(
            f"/api/v1/reports/{rid}/reopen", json={"reason": reason}, headers=headers
        )
        assert r.status_code == 200, r.text
        mine, response = await updates_of(client, rid, 2)
    text = response.content.decode()
    for secret in ("Trần Thị B", "b@example.org", "0901234567", "90 123 4567", reason):
        assert secret not in text
    assert mine[-1]["status"] == "open"
    assert mine[-1]["external_status_code"] == "reopened"
    assert map_state(mine[-1]["status"]) == "confirmed"


async def test_window_outside_the_updates_answers_an_empty_list(running: Running) -> None:
    async with running.client() as client:
        rid = await sent_by_fms(client)
        await running.publish(assigned(rid, 1))
        await updates_of(client, rid, 1)
        later = datetime.now(UTC) + timedelta(hours=1)
        params = {
            "start_date": later.strftime(FMT),
            "end_date": (later + timedelta(hours=2)).strftime(FMT),
        }
        r = await client.get(BASE + "servicerequestupdates.xml", params=params)
    assert r.status_code == 200
    assert simple(r.content).findall("request_update") == []


async def test_bad_dates_and_long_windows_are_errors_documents(running: Running) -> None:
    async with running.client() as client:
        bad = await client.get(
            BASE + "servicerequestupdates.xml", params={"start_date": "yesterday"}
        )
        now = datetime.now(UTC)
        long = await client.get(
            BASE + "servicerequestupdates.xml",
            params={
                "start_date": (now - timedelta(days=120)).strftime(FMT),
                "end_date": now.strftime(FMT),
            },
        )
        reversed_ = await client.get(
            BASE + "servicerequestupdates.json",
            params={
                "start_date": now.strftime(FMT),
                "end_date": (now - timedelta(hours=1)).strftime(FMT),
            },
        )
    for r in (bad, long):
        assert r.status_code == 400
        errors = simple(r.content).findall("error")
        assert errors
        assert errors[0].findtext("code") == "400"
    assert reversed_.status_code == 400
    assert reversed_.json()[0]["code"] == 400


async def test_posting_an_update_is_refused_with_an_errors_document(running: Running) -> None:
    """FixMyStreet POSTs residents' comments to the same path when it sends comments."""
    async with running.client() as client:
        r = await client.post(
            BASE + "servicerequestupdates.xml",
            data={"api_key": DEV_OPEN311_KEY, "service_request_id": "x", "description": "hi"},
        )
    assert r.status_code == 501
    assert simple(r.content).findall("error")[0].findtext("code") == "501"
