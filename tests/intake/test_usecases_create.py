"""Filing a report (use case over fakes, no I/O): one commit with report.created, the contact
sealed, idempotent retries, photos pending until the commit, refusals that leave nothing."""

from __future__ import annotations

from typing import Any

import pytest

from services.intake.domain import rules
from services.intake.domain.errors import (
    CatalogUnavailable,
    IdempotencyConflict,
    PhotoBadType,
    RateLimited,
    UnknownCategory,
)
from services.intake.domain.report import Contact, Report, ReportDraft
from shared.crypto import PiiBox
from shared.events import ReportCreatedV1, Status
from tests.intake.conftest import CATALOG
from tests.intake.fakes import PII_KEY, World, a_report, world
from tests.intake.test_photos_sanitize import jpeg_with_gps


def draft(**over: Any) -> ReportDraft:
    fields: dict[str, Any] = {
        "category": "pothole",
        "lat": 16.46,
        "lon": 107.59,
        "description": "ổ gà",
    }
    return ReportDraft(**{**fields, **over})


async def file(w: World, d: ReportDraft | None = None, **kw: Any) -> Any:
    return await w.intake.file_report(d or draft(), channel="api", **kw)


async def test_filing_stores_the_report_and_emits_created_in_one_commit() -> None:
    w = world(CATALOG)
    created = await file(w)
    [event] = w.tx.of_type("report.created")
    assert w.reports.by_id[created.report.id].status == Status.RECEIVED
    assert (event.subject, w.tx.commits) == (created.report.id, 1)
    assert w.value("intake_reports_created_total", channel="api", category="pothole") == 1


async def test_contact_is_sealed_for_notify_and_never_in_clear() -> None:
    w = world(CATALOG)
    created = await file(w, draft(contact=Contact(email="b@example.org")))
    [event] = w.tx.emitted
    sealed = event.payload(ReportCreatedV1).contact_sealed or ""
    assert "b@example.org" not in event.model_dump_json()
    assert PiiBox(PII_KEY).open(sealed, aad=created.report.id)["email"] == "b@example.org"


async def test_only_the_tracking_token_hash_is_kept() -> None:
    w = world(CATALOG)
    created = await file(w)
    stored = w.reports.by_id[created.report.id]
    assert stored.token_hash == rules.token_hash(created.tracking_token)


async def test_unknown_category_is_refused_and_nothing_is_written() -> None:
    w = world(CATALOG)
    with pytest.raises(UnknownCategory):
        await file(w, draft(category="volcano"))
    assert (w.reports.by_id, w.tx.commits, w.tx.emitted) == ({}, 0, [])


async def test_without_a_catalogue_filing_is_unavailable() -> None:
    with pytest.raises(CatalogUnavailable):
        await file(world(None))


async def test_retry_with_the_same_key_answers_the_first_report_and_token() -> None:
    w = world(CATALOG)
    first = await file(w, idempotency_key="k1", client="id:app")
    again = await file(w, idempotency_key="k1", client="id:app")
    assert again.replayed
    assert not first.replayed
    assert (again.report.id, again.tracking_token) == (first.report.id, first.tracking_token)
    assert len(w.tx.of_type("report.created")) == 1
    assert w.value("intake_idempotent_replays_total") == 1


async def test_same_key_with_another_body_is_a_conflict() -> None:
    w = world(CATALOG)
    await file(w, idempotency_key="k1", client="id:app")
    with pytest.raises(IdempotencyConflict):
        await file(w, draft(description="khác"), idempotency_key="k1", client="id:app")
    assert len(w.reports.by_id) == 1


async def test_same_key_from_another_client_files_another_report() -> None:
    w = world(CATALOG)
    a = await file(w, idempotency_key="k1", client="id:one")
    b = await file(w, idempotency_key="k1", client="id:two")
    assert a.report.id != b.report.id
    assert not b.replayed


async def test_a_lost_key_race_discards_the_photos_and_answers_the_winner() -> None:
    w = world(CATALOG)
    winner = await file(w, idempotency_key="k1", client="id:app")
    real_get, calls = w.keys.get, []

    async def not_yet_committed(key: str) -> Any:
        calls.append(key)
        return None if len(calls) == 1 else await real_get(key)

    w.keys.get = not_yet_committed  # type: ignore[method-assign]
    loser = await file(w, None, idempotency_key="k1", client="id:app")
    assert (loser.replayed, loser.report.id) == (True, winner.report.id)
    assert (len(w.reports.by_id), w.tx.rollbacks, w.photos.files) == (1, 1, {})


async def test_photos_are_confirmed_with_the_report_and_named_in_the_event() -> None:
    w = world(CATALOG)
    created = await w.intake.file_report(draft(), [jpeg_with_gps()], channel="api")
    [photo] = created.report.photos
    assert {i: f.pending for i, f in w.photos.files.items()} == {
        photo.id: False,
        f"{photo.id}-thumb": False,
    }
    urls = w.tx.emitted[0].payload(ReportCreatedV1).photo_urls
    assert urls == [f"http://intake/api/v1/photos/{photo.id}"]


async def test_a_failing_commit_discards_the_pending_photos() -> None:
    w = world(CATALOG)

    async def broken(report: Report, session: Any = None) -> None:
        raise RuntimeError("database went away")

    w.reports.insert = broken  # type: ignore[method-assign]
    with pytest.raises(RuntimeError):
        await w.intake.file_report(draft(), [jpeg_with_gps()], channel="api")
    assert (w.photos.files, w.tx.rollbacks, w.tx.emitted) == ({}, 1, [])


async def test_a_refused_photo_is_counted_by_reason_and_nothing_is_stored() -> None:
    w = world(CATALOG)
    with pytest.raises(PhotoBadType):
        await w.intake.file_report(draft(), [b"<html>no</html>"], channel="api")
    assert w.value("intake_photo_rejections_total", reason="bad_type") == 1
    assert (w.photos.files, w.reports.by_id) == ({}, {})


async def test_open_reports_nearby_are_offered_as_possible_duplicates() -> None:
    near = a_report("near", lat=16.4602, lon=107.59)
    closed = a_report("closed", status=Status.CLOSED)
    created = await file(world(CATALOG, near, closed))
    assert [(d.report.id, d.distance_m) for d in created.possible_duplicates] == [("near", 22.2)]


def test_quota_refuses_after_the_burst_and_says_when_to_retry() -> None:
    w = world(CATALOG, burst=2)
    w.intake.quotas.take("create", "10.0.0.1")
    w.intake.quotas.take("create", "10.0.0.1")
    with pytest.raises(RateLimited) as refused:
        w.intake.quotas.take("create", "10.0.0.1")
    assert refused.value.retry_after_s == 60
    assert w.value("intake_rate_limited_total", limit="create") == 1
