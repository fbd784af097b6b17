"""Photos are written before the report's transaction (GridFS cannot join one), marked pending and
confirmed by that transaction: a create that does not commit leaves no photo file behind."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta
from typing import Any

import pytest

from services.intake.domain.report import ReportDraft
from shared.events import utcnow
from tests.intake.conftest import Running, report_body
from tests.intake.test_photos_sanitize import jpeg_with_gps


def _draft() -> ReportDraft:
    return ReportDraft(category="pothole", lat=16.46, lon=107.59, description="ổ gà có ảnh")


async def _photo_files(running: Running, **query: Any) -> int:
    return await running.db["photos.files"].count_documents(query)


async def test_create_failing_after_upload_leaves_no_photo_file(
    running: Running, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken_insert(*_: Any) -> None:
        raise RuntimeError("database went away mid-transaction")

    create = running.intake.file_report
    uploaded: list[str] = []
    put_pending = create.photos.put_pending

    async def counted_put(data: bytes, ctype: str, owner: str, file_id: str | None = None) -> str:
        stored = await put_pending(data, ctype, owner, file_id)
        assert await _photo_files(running, _id=stored, **{"metadata.pending": True}) == 1
        uploaded.append(stored)
        return stored

    before = await _photo_files(running)
    monkeypatch.setattr(create.photos, "put_pending", counted_put)
    monkeypatch.setattr(create.reports, "insert", broken_insert)
    with pytest.raises(RuntimeError):
        await create(_draft(), [jpeg_with_gps(), jpeg_with_gps()], channel="api")
    assert (
        len(uploaded) == 4
    )  # two photos and their thumbnails were written pending, then discarded
    assert await _photo_files(running) == before


async def test_sweeper_deletes_pending_photo_after_grace_only(running: Running) -> None:
    """A process that died between upload and commit left a pending file: served to nobody,
    kept during the grace period, then deleted."""
    photos, upkeep = running.intake.file_report.photos, running.intake.upkeep
    file_id = await photos.put_pending(b"\xff\xd8orphan", "image/jpeg", str(uuid.uuid4()))
    async with running.client() as client:
        assert (await client.get(f"/api/v1/photos/{file_id}")).status_code == 404
    await upkeep.sweep_photos_once()
    assert await _photo_files(running, _id=file_id) == 1
    later = utcnow() + timedelta(seconds=running.settings.photo_pending_grace_s + 1)
    assert await upkeep.sweep_photos_once(now=later) >= 1
    assert await _photo_files(running, _id=file_id) == 0
    assert await running.db["photos.chunks"].count_documents({"files_id": file_id}) == 0


async def test_committed_report_photos_survive_the_sweeper(running: Running) -> None:
    files = [("photos", ("a.jpg", jpeg_with_gps(), "image/jpeg"))]
    async with running.client() as client:
        created = await client.post(
            "/api/v1/reports", data={"report": json.dumps(report_body())}, files=files
        )
        assert created.status_code == 201, created.text
        later = utcnow() + timedelta(seconds=running.settings.photo_pending_grace_s + 1)
        await running.intake.upkeep.sweep_photos_once(now=later)
        [photo] = created.json()["photos"]
        assert (await client.get(photo["url"])).status_code == 200
        assert (await client.get(photo["thumb_url"])).status_code == 200
