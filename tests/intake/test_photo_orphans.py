"""Photos are written before the report's transaction (GridFS cannot join one), marked pending and
confirmed by that transaction: a create that does not commit leaves no photo file behind."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import timedelta
from typing import Any

import pytest

from services.intake.domain.photos import sanitize
from services.intake.domain.report import ReportDraft
from shared.events import utcnow
from tests.intake.conftest import Running, report_body
from tests.intake.test_photos_sanitize import jpeg_with_gps


def _draft() -> ReportDraft:
    return ReportDraft(category="pothole", lat=16.46, lon=107.59, description="ổ gà có ảnh")


async def _photo_files(running: Running) -> int:
    return await running.intake.store.photo_files.count_documents({})


async def test_create_failing_after_upload_leaves_no_photo_file(
    running: Running, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken_insert(*_: Any) -> None:
        raise RuntimeError("database went away mid-transaction")

    store = running.intake.store
    uploaded: list[str] = []
    put_photo = store.put_photo

    async def counted_put_photo(file_id: str, *args: Any) -> None:
        await put_photo(file_id, *args)
        uploaded.append(file_id)

    photo = await asyncio.to_thread(sanitize, jpeg_with_gps(), max_pixels=10**7)
    before = await _photo_files(running)
    monkeypatch.setattr(store, "put_photo", counted_put_photo)
    monkeypatch.setattr(store, "insert", broken_insert)
    with pytest.raises(RuntimeError):
        await running.intake.create(_draft(), [photo, photo], channel="api")
    assert len(uploaded) == 4  # two photos and their thumbnails were written, then discarded
    assert await _photo_files(running) == before


async def test_sweeper_deletes_pending_photo_after_grace_only(running: Running) -> None:
    """A process that died between upload and commit left a pending file: served to nobody,
    kept during the grace period, then deleted."""
    store, intake = running.intake.store, running.intake
    file_id = uuid.uuid4().hex
    await store.put_photo(file_id, b"\xff\xd8orphan", "image/jpeg", str(uuid.uuid4()))
    async with running.client() as client:
        assert (await client.get(f"/api/v1/photos/{file_id}")).status_code == 404
    await intake.sweep_photos_once()
    assert await store.photo_files.count_documents({"_id": file_id}) == 1
    later = utcnow() + timedelta(seconds=running.settings.photo_pending_grace_s + 1)
    assert await intake.sweep_photos_once(now=later) >= 1
    assert await store.photo_files.count_documents({"_id": file_id}) == 0
    assert await store.db["photos.chunks"].count_documents({"files_id": file_id}) == 0


async def test_committed_report_photos_survive_the_sweeper(running: Running) -> None:
    files = [("photos", ("a.jpg", jpeg_with_gps(), "image/jpeg"))]
    async with running.client() as client:
        created = await client.post(
            "/api/v1/reports", data={"report": json.dumps(report_body())}, files=files
        )
        assert created.status_code == 201, created.text
        later = utcnow() + timedelta(seconds=running.settings.photo_pending_grace_s + 1)
        await running.intake.sweep_photos_once(now=later)
        [photo] = created.json()["photos"]
        assert (await client.get(photo["url"])).status_code == 200
        assert (await client.get(photo["thumb_url"])).status_code == 200
