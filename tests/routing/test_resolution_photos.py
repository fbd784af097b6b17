"""Resolution photos over HTTP: caps while streaming, sanitising, pending until the resolve commits."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from datetime import timedelta

from services.routing.stores import PHOTOS_BUCKET
from shared.events import utcnow
from shared.photos import PhotoStore
from tests.routing.conftest import Routing
from tests.routing.workflow import (
    PNG,
    detail,
    files,
    new,
    post,
    refused_changes_nothing,
)
from tests.support import unique


async def test_non_image_photo_refused(routing: Routing) -> None:
    a = await new(routing)
    r = await refused_changes_nothing(
        routing,
        a,
        "phu-hoi-ward",
        "resolve",
        data={"note": "done"},
        files=[("photos", ("x.png", io.BytesIO(b"<script>"), "image/png"))],
    )
    assert (r.status_code, r.json()["error"]["code"]) == (415, "unsupported_media_type")


async def test_refused_resolve_with_a_photo_leaves_no_stored_file(routing: Routing) -> None:
    a = await new(routing)
    await post(
        routing, "phu-hoi-ward", f"/api/v1/assignments/{a['id']}/resolve", json={"note": "x"}
    )
    r = await refused_changes_nothing(
        routing,
        a,
        "phu-hoi-ward",
        "resolve",
        data={"note": "again"},
        files=[("photos", ("after.png", io.BytesIO(PNG), "image/png"))],
    )
    assert r.status_code == 409
    assert await routing.db["photos.files"].count_documents({"metadata.pending": True}) == 0


async def test_sweeper_deletes_photos_a_crash_left_pending_and_keeps_accepted_ones(
    routing: Routing,
) -> None:
    photos = PhotoStore(routing.db, PHOTOS_BUCKET)  # the bucket routing's sweep loop sweeps
    owner = unique("crashed-")
    orphan = await photos.put_pending(PNG, "image/png", owner)
    kept = await photos.put_pending(PNG, "image/png", owner)
    await photos.confirm([kept], None)
    assert await photos.get(orphan) is None  # a pending photo is never served
    await photos.sweep_once(uploaded_before=utcnow() + timedelta(seconds=1))
    left = await routing.db["photos.files"].find({"metadata.owner": owner}).to_list()
    assert [f["_id"] for f in left] == [kept]


async def test_undecodable_image_refused(routing: Routing) -> None:
    a = await new(routing)
    r = await post(
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
    a = await new(routing)
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
    a = await new(routing)
    photo = ("photos", ("p.png", PNG, "image/png"))
    r = await post(
        routing,
        "phu-hoi-ward",
        f"/api/v1/assignments/{a['id']}/resolve",
        data={"note": "done"},
        files=[photo] * (routing.settings.photos_max_count + 1),
    )
    assert (r.status_code, r.json()["error"]["code"]) == (422, "too_many_photos")
    assert (await detail(routing, a["id"]))["status"] == "assigned"
    assert await files(routing, a["id"]) == []


async def test_file_under_another_field_name_refused(routing: Routing) -> None:
    a = await new(routing)
    r = await post(
        routing,
        "phu-hoi-ward",
        f"/api/v1/assignments/{a['id']}/resolve",
        data={"note": "done"},
        files=[("photo", ("p.png", PNG, "image/png"))],
    )
    assert r.status_code == 422


async def test_malformed_multipart_refused_422(routing: Routing) -> None:
    a = await new(routing)
    r = await routing.client.post(
        f"/api/v1/assignments/{a['id']}/resolve",
        content=b"--X\r\nnot a part",
        headers={
            **await routing.auth("phu-hoi-ward"),
            "Content-Type": "multipart/form-data; boundary=B",
        },
    )
    assert (r.status_code, r.json()["error"]["code"]) == (422, "validation_error")
