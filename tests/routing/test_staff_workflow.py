"""Staff, operator and deadline workflow over HTTP, with its events on the real broker."""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import jwt
from PIL import Image, PngImagePlugin

from services.routing.service import now_ms
from shared.events import Topic, utcnow
from shared.settings import DEV_JWT_SECRET
from tests.routing.conftest import HANOI, PHU_HOI, VINH_NINH, Routing, bearer
from tests.support import unique


def _png() -> bytes:
    out = io.BytesIO()
    info = PngImagePlugin.PngInfo()
    info.add_text("GPS", "16.46,107.59")
    Image.new("RGB", (8, 6), "red").save(out, format="PNG", pnginfo=info)
    return out.getvalue()


PNG = _png()


async def _post(routing: Routing, who: str, path: str, **kw: Any) -> Any:
    return await routing.client.post(path, headers=await routing.auth(who), **kw)


async def _new(
    routing: Routing, category: str = "sidewalk-encroachment", point=PHU_HOI
) -> dict[str, Any]:
    event = await routing.publish_created(category, point)
    return await routing.assignment(event.subject)


async def test_reject_reroutes_and_never_returns_to_a_rejecter(routing: Routing) -> None:
    a = await _new(routing)
    url = f"/api/v1/assignments/{a['id']}/reject"
    first = await _post(routing, "phu-hoi-ward", url, json={"reason": "district road"})
    second = await _post(routing, "thuan-hoa-district", url, json={"reason": "not ours"})
    assert first.json()["agency_id"] == "thuan-hoa-district"
    assert (second.json()["agency_id"], second.json()["attempt"]) == ("ioc", 3)


async def test_reroute_emits_assigned_with_next_attempt(routing: Routing) -> None:
    a = await _new(routing)
    await _post(
        routing, "phu-hoi-ward", f"/api/v1/assignments/{a['id']}/reject", json={"reason": "x"}
    )
    events = await routing.events.wait(Topic.REPORT_ASSIGNED, a["report_id"], count=2)
    assert [(e.data["attempt"], e.data["reason"]) for e in events][-1] == (2, "reroute")


async def test_other_agency_gets_404(routing: Routing) -> None:
    a = await _new(routing)
    auth = await routing.auth("vinh-ninh-ward")
    got = await routing.client.get(f"/api/v1/assignments/{a['id']}", headers=auth)
    resolve = await routing.client.post(
        f"/api/v1/assignments/{a['id']}/resolve", json={"note": "x"}, headers=auth
    )
    assert (got.status_code, resolve.status_code) == (404, 404)


async def test_other_agency_queue_does_not_list_it(routing: Routing) -> None:
    a = await _new(routing)
    auth = await routing.auth("vinh-ninh-ward")
    r = await routing.client.get(
        "/api/v1/assignments", params={"report_id": a["report_id"]}, headers=auth
    )
    assert r.json()["items"] == []


def _token(**changes: Any) -> str:
    now = utcnow()
    claims = {
        "sub": "phu-hoi-ward",
        "scope": "staff",
        "agency_id": "phu-hoi-ward",
        "iss": "fieldreports-routing",
        "aud": "fieldreports",
        "iat": now,
        "exp": now + timedelta(hours=1),
    }
    claims.update(changes)
    return jwt.encode(claims, DEV_JWT_SECRET, algorithm="HS256")


async def _status_with(routing: Routing, token: str) -> int:
    r = await routing.client.get("/api/v1/assignments", headers=bearer(token))
    return r.status_code


async def test_valid_token_accepted(routing: Routing) -> None:
    assert await _status_with(routing, _token()) == 200


async def test_wrong_audience_refused(routing: Routing) -> None:
    assert await _status_with(routing, _token(aud="someone-else")) == 401


async def test_expired_token_refused(routing: Routing) -> None:
    assert await _status_with(routing, _token(exp=utcnow() - timedelta(minutes=5))) == 401


async def test_alg_none_refused(routing: Routing) -> None:
    unsigned = jwt.encode({"sub": "x", "scope": "operator"}, "", algorithm="none")
    assert await _status_with(routing, unsigned) == 401


async def test_wrong_password_refused(routing: Routing) -> None:
    r = await routing.client.post(
        "/api/v1/auth/token", data={"username": "ioc", "password": "nope"}
    )
    assert r.status_code == 401


async def test_staff_cannot_use_operator_actions(routing: Routing) -> None:
    a = await _new(routing)
    r = await _post(
        routing, "phu-hoi-ward", f"/api/v1/assignments/{a['id']}/dismiss", json={"reason": "spam"}
    )
    assert r.status_code == 403


async def test_accept_start_resolve_with_photo(routing: Routing) -> None:
    a = await _new(routing)
    base = f"/api/v1/assignments/{a['id']}"
    await _post(routing, "phu-hoi-ward", f"{base}/accept")
    await _post(routing, "phu-hoi-ward", f"{base}/start", json={"note": "crew on site"})
    done = await _post(
        routing,
        "phu-hoi-ward",
        f"{base}/resolve",
        data={"note": "cleared"},
        files=[("photos", ("after.png", io.BytesIO(PNG), "image/png"))],
    )
    assert done.status_code == 200, done.text
    [resolved] = await routing.events.wait(Topic.REPORT_RESOLVED, a["report_id"])
    photo = await routing.client.get(resolved.data["photo_urls"][0].split("8002", 1)[1])
    stored = Image.open(io.BytesIO(photo.content))
    assert (stored.size, photo.headers["content-type"]) == ((8, 6), "image/png")
    assert "GPS" not in stored.info


async def test_progress_events_emitted(routing: Routing) -> None:
    a = await _new(routing)
    base = f"/api/v1/assignments/{a['id']}"
    await _post(routing, "phu-hoi-ward", f"{base}/accept")
    await _post(routing, "phu-hoi-ward", f"{base}/start")
    await routing.events.wait(Topic.REPORT_ACCEPTED, a["report_id"])
    await routing.events.wait(Topic.REPORT_IN_PROGRESS, a["report_id"])


async def test_non_image_photo_refused(routing: Routing) -> None:
    a = await _new(routing)
    r = await _post(
        routing,
        "phu-hoi-ward",
        f"/api/v1/assignments/{a['id']}/resolve",
        data={"note": "done"},
        files=[("photos", ("x.png", io.BytesIO(b"<script>"), "image/png"))],
    )
    assert r.status_code == 415


async def test_resolving_twice_is_a_conflict(routing: Routing) -> None:
    a = await _new(routing)
    url = f"/api/v1/assignments/{a['id']}/resolve"
    await _post(routing, "phu-hoi-ward", url, json={"note": "done"})
    again = await _post(routing, "phu-hoi-ward", url, json={"note": "done"})
    assert again.status_code == 409


async def test_transfer_emits_assigned_reason_transfer(routing: Routing) -> None:
    a = await _new(routing)
    r = await _post(
        routing,
        "phu-hoi-ward",
        f"/api/v1/assignments/{a['id']}/transfer",
        json={"agency_id": "hue-urenco", "note": "garbage, not encroachment"},
    )
    assert r.json()["agency_id"] == "hue-urenco"
    events = await routing.events.wait(Topic.REPORT_ASSIGNED, a["report_id"], count=2)
    assert (events[-1].data["reason"], events[-1].data["attempt"]) == ("transfer", 2)


async def test_operator_assigns_from_triage_queue(routing: Routing) -> None:
    a = await _new(routing, point=HANOI)
    triage = await routing.client.get("/api/v1/triage", headers=await routing.auth("operator"))
    assert a["id"] in {i["id"] for i in triage.json()["items"]}
    r = await _post(
        routing,
        "operator",
        f"/api/v1/assignments/{a['id']}/assign",
        json={"agency_id": "hue-water"},
    )
    assert (r.json()["agency_id"], r.json()["reason"]) == ("hue-water", "manual")


async def test_resolving_original_resolves_its_duplicates(routing: Routing) -> None:
    original = await _new(routing)
    dup = await _new(routing)
    r = await _post(
        routing,
        "operator",
        f"/api/v1/assignments/{dup['id']}/duplicate",
        json={"duplicate_of": original["report_id"]},
    )
    assert r.json()["status"] == "duplicate"
    await _post(
        routing,
        "phu-hoi-ward",
        f"/api/v1/assignments/{original['id']}/resolve",
        json={"note": "ok"},
    )
    await routing.events.wait(Topic.REPORT_DUPLICATE, dup["report_id"])
    [resolved] = await routing.events.wait(Topic.REPORT_RESOLVED, dup["report_id"])
    assert resolved.data["note"] == "ok"


async def test_dismiss_as_spam_emits_rejected(routing: Routing) -> None:
    a = await _new(routing)
    await _post(
        routing, "operator", f"/api/v1/assignments/{a['id']}/dismiss", json={"reason": "spam"}
    )
    [rejected] = await routing.events.wait(Topic.REPORT_REJECTED, a["report_id"])
    assert (rejected.data["reason"], rejected.data["by"]) == ("spam", "operator")


async def _make_overdue(routing: Routing, assignment_id: str) -> None:
    await routing.service.store.assignments.update_one(
        {"_id": assignment_id}, {"$set": {"due_at": now_ms() - timedelta(hours=1)}}
    )


async def test_breach_escalates_exactly_once(routing: Routing) -> None:
    a = await _new(routing, point=VINH_NINH)
    await _make_overdue(routing, a["id"])
    await asyncio.gather(routing.service.check_deadlines(), routing.service.check_deadlines())
    await routing.service.check_deadlines()
    outbox = routing.app.state.runtime.db.outbox
    count = await outbox.count_documents({"subject": a["report_id"], "type": "report.escalated"})
    [escalated] = await routing.events.wait(Topic.REPORT_ESCALATED, a["report_id"])
    assert (count, escalated.data["level"]) == (1, 1)


async def test_queue_lists_overdue_first_and_filters(routing: Routing) -> None:
    late = await _new(routing, category="illegal-construction", point=VINH_NINH)
    await _new(routing, category="illegal-construction", point=VINH_NINH)
    await _make_overdue(routing, late["id"])
    auth = await routing.auth("vinh-ninh-ward")
    queue = await routing.client.get("/api/v1/assignments", headers=auth)
    only_late = await routing.client.get(
        "/api/v1/assignments",
        params={"overdue": "true", "category": "illegal-construction"},
        headers=auth,
    )
    assert queue.json()["items"][0]["overdue"] is True
    assert [i["id"] for i in only_late.json()["items"]] == [late["id"]]


async def test_history_records_staff_not_reporter(routing: Routing) -> None:
    a = await _new(routing)
    r = await _post(routing, "phu-hoi-ward", f"/api/v1/assignments/{a['id']}/accept")
    entry = r.json()["history"][-1]
    assert (entry["action"], entry["by"]["agency_id"]) == ("accept", "phu-hoi-ward")


async def test_undecodable_image_refused(routing: Routing) -> None:
    a = await _new(routing)
    r = await _post(
        routing,
        "phu-hoi-ward",
        f"/api/v1/assignments/{a['id']}/resolve",
        data={"note": "done"},
        files=[("photos", ("x.png", io.BytesIO(b"\x89PNG\r\n\x1a\n" + b"\x00" * 32), "image/png"))],
    )
    assert r.status_code == 422


async def test_oversized_photo_refused_413_before_the_body_is_read_whole(
    routing: Routing,
) -> None:
    a = await _new(routing)
    cap = routing.settings.photo_max_bytes
    chunk = 64 * 1024
    sent = 0

    async def body() -> AsyncIterator[bytes]:
        nonlocal sent
        yield (
            b'--B\r\nContent-Disposition: form-data; name="note"\r\n\r\nfixed\r\n'
            b'--B\r\nContent-Disposition: form-data; name="photos"; filename="big.png"\r\n'
            b"Content-Type: image/png\r\n\r\n"
        )
        for _ in range(4 * cap // chunk):  # a photo of four times the cap
            sent += chunk
            yield b"\x00" * chunk
        yield b"\r\n--B--\r\n"

    r = await routing.client.post(
        f"/api/v1/assignments/{a['id']}/resolve",
        content=body(),
        headers={
            **await routing.auth("phu-hoi-ward"),
            "Content-Type": "multipart/form-data; boundary=B",
        },
    )
    assert (r.status_code, r.json()["error"]["code"]) == (413, "payload_too_large")
    assert sent <= cap + chunk


async def test_more_photos_than_allowed_refused(routing: Routing) -> None:
    a = await _new(routing)
    photo = ("photos", ("p.png", PNG, "image/png"))
    r = await _post(
        routing,
        "phu-hoi-ward",
        f"/api/v1/assignments/{a['id']}/resolve",
        data={"note": "done"},
        files=[photo] * (routing.settings.photos_max_count + 1),
    )
    assert (r.status_code, r.json()["error"]["code"]) == (422, "too_many_photos")
    assert (
        await routing.client.get(
            f"/api/v1/assignments/{a['id']}", headers=await routing.auth("phu-hoi-ward")
        )
    ).json()["status"] == "assigned"


async def test_file_under_another_field_name_refused(routing: Routing) -> None:
    a = await _new(routing)
    r = await _post(
        routing,
        "phu-hoi-ward",
        f"/api/v1/assignments/{a['id']}/resolve",
        data={"note": "done"},
        files=[("photo", ("p.png", PNG, "image/png"))],
    )
    assert r.status_code == 422


async def test_not_overdue_filter_applies_before_the_limit(routing: Routing) -> None:
    category = unique("cat-")  # unknown: goes to the IOC, alone in its category
    late = await _new(routing, category=category, point=HANOI)
    timely = await _new(routing, category=category, point=HANOI)
    await _make_overdue(routing, late["id"])  # sorted first by due time
    r = await routing.client.get(
        "/api/v1/assignments",
        params={"overdue": "false", "category": category, "limit": 1},
        headers=await routing.auth("operator"),
    )
    assert [i["id"] for i in r.json()["items"]] == [timely["id"]]


async def test_malformed_multipart_refused_422(routing: Routing) -> None:
    a = await _new(routing)
    r = await routing.client.post(
        f"/api/v1/assignments/{a['id']}/resolve",
        content=b"--X\r\nnot a part",
        headers={
            **await routing.auth("phu-hoi-ward"),
            "Content-Type": "multipart/form-data; boundary=B",
        },
    )
    assert (r.status_code, r.json()["error"]["code"]) == (422, "validation_error")
