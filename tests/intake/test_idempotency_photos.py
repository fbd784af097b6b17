"""Idempotency-Key retries, and multipart creates with photos stored clean in GridFS."""

from __future__ import annotations

import io

from PIL import Image

from tests.intake.conftest import Running, report_body
from tests.intake.test_photos_sanitize import jpeg_with_gps
from tests.support import unique


async def test_retry_with_same_key_makes_one_report(running: Running) -> None:
    key = unique("idem-")
    async with running.client() as client:
        first = await client.post(
            "/api/v1/reports", json=report_body(), headers={"Idempotency-Key": key}
        )
        again = await client.post(
            "/api/v1/reports", json=report_body(), headers={"Idempotency-Key": key}
        )
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["id"] == first.json()["id"]
    assert again.json()["tracking_token"] == first.json()["tracking_token"]
    assert await running.db.reports.count_documents({"_id": first.json()["id"]}) == 1
    created = running.db.outbox.count_documents(
        {"subject": first.json()["id"], "type": "report.created"}
    )
    assert await created == 1


async def test_same_key_with_another_body_is_409(running: Running) -> None:
    key = unique("idem-")
    async with running.client() as client:
        await client.post("/api/v1/reports", json=report_body(), headers={"Idempotency-Key": key})
        other = await client.post(
            "/api/v1/reports",
            json=report_body(description="khác"),
            headers={"Idempotency-Key": key},
        )
    assert (other.status_code, other.json()["error"]["code"]) == (409, "idempotency_conflict")


async def test_photo_with_gps_is_served_back_without_exif(running: Running) -> None:
    files = [("photos", ("a.jpg", jpeg_with_gps(), "image/jpeg"))]
    async with running.client() as client:
        created = await client.post(
            "/api/v1/reports", data={"report": _json(report_body())}, files=files
        )
        assert created.status_code == 201, created.text
        [photo] = created.json()["photos"]
        full = await client.get(photo["url"])
        thumb = await client.get(photo["thumb_url"])
    assert full.headers["content-type"] == "image/jpeg"
    served = Image.open(io.BytesIO(full.content))
    assert not served.getexif()
    assert "exif" not in served.info
    assert thumb.status_code == 200


async def test_flat_form_fields_are_accepted(running: Running) -> None:
    fields = {
        "category": "pothole",
        "lat": "16.46",
        "lon": "107.59",
        "description": "ổ gà",
        "contact_email": "x@y.vn",
    }
    files = [("photos", ("a.jpg", jpeg_with_gps(), "image/jpeg"))]
    async with running.client() as client:
        r = await client.post("/api/v1/reports", data=fields, files=files)
    assert r.status_code == 201, r.text


async def test_non_image_upload_is_refused_415(running: Running) -> None:
    files = [("photos", ("a.jpg", b"<html>not a photo</html>", "image/jpeg"))]
    async with running.client() as client:
        r = await client.post("/api/v1/reports", data={"report": _json(report_body())}, files=files)
    assert (r.status_code, r.json()["error"]["code"]) == (415, "photo_bad_type")


async def test_more_than_five_photos_is_refused(running: Running) -> None:
    files = [("photos", (f"{i}.jpg", jpeg_with_gps(), "image/jpeg")) for i in range(6)]
    async with running.client() as client:
        r = await client.post("/api/v1/reports", data={"report": _json(report_body())}, files=files)
    assert (r.status_code, r.json()["error"]["code"]) == (422, "photo_too_many")


async def test_oversized_photo_is_refused_413(running: Running) -> None:
    big = b"\xff\xd8" + b"0" * (running.settings.photo_max_bytes + 10)
    files = [("photos", ("big.jpg", big, "image/jpeg"))]
    async with running.client() as client:
        r = await client.post("/api/v1/reports", data={"report": _json(report_body())}, files=files)
    assert (r.status_code, r.json()["error"]["code"]) == (413, "photo_too_large")


async def test_unknown_photo_is_404(running: Running) -> None:
    async with running.client() as client:
        r = await client.get("/api/v1/photos/nope")
    assert r.status_code == 404
    assert "error" in r.json()


def _json(body: dict[str, object]) -> str:
    import json

    return json.dumps(body, ensure_ascii=False)


async def test_same_key_from_two_clients_makes_two_reports(running: Running) -> None:
    """A key is scoped to its client: another client guessing it gets its own report, never the
    first one (nor its tracking token)."""
    key = unique("idem-")
    async with running.client() as first, running.client() as second:
        a = await first.post(
            "/api/v1/reports", json=report_body(), headers={"Idempotency-Key": key}
        )
        b = await second.post(
            "/api/v1/reports", json=report_body(), headers={"Idempotency-Key": key}
        )
    assert (a.status_code, b.status_code) == (201, 201)
    assert a.json()["id"] != b.json()["id"]
    assert a.json()["tracking_token"] != b.json()["tracking_token"]


async def test_same_key_with_another_body_from_another_client_is_no_conflict(
    running: Running,
) -> None:
    key = unique("idem-")
    async with running.client() as first, running.client() as second:
        await first.post("/api/v1/reports", json=report_body(), headers={"Idempotency-Key": key})
        other = await second.post(
            "/api/v1/reports",
            json=report_body(description="khác"),
            headers={"Idempotency-Key": key},
        )
    assert other.status_code == 201


async def test_client_id_header_scopes_the_key_across_networks(running: Running) -> None:
    """An app sending X-Client-Id keeps its key when its IP changes (Wi-Fi to mobile data), and
    a different X-Client-Id behind the same IP does not share it."""
    key, app = unique("idem-"), unique("install-")
    headers = {"Idempotency-Key": key, "X-Client-Id": app}
    async with running.client() as wifi, running.client() as mobile:
        first = await wifi.post("/api/v1/reports", json=report_body(), headers=headers)
        retry = await mobile.post("/api/v1/reports", json=report_body(), headers=headers)
        neighbour = await wifi.post(
            "/api/v1/reports",
            json=report_body(),
            headers={"Idempotency-Key": key, "X-Client-Id": unique("install-")},
        )
    assert (first.status_code, retry.status_code, neighbour.status_code) == (201, 200, 201)
    assert retry.json()["id"] == first.json()["id"]
    assert neighbour.json()["id"] != first.json()["id"]
