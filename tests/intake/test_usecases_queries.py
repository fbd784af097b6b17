"""Reads (use cases over fakes, no I/O): feed paging, nearby cap, token, photos, Open311."""

from __future__ import annotations

from datetime import timedelta

import pytest

from services.intake.domain import rules
from services.intake.domain.errors import Forbidden, InvalidInput, InvalidToken, NotFound
from services.intake.domain.filters import FeedFilter, RequestFilter
from services.intake.domain.report import Report, ReportDraft, TimelineEntry
from shared.events import Status
from tests.intake.conftest import CATALOG
from tests.intake.fakes import T0, a_report, world


def reports(n: int) -> list[Report]:
    return [a_report(f"r{i}", created_at=T0 + timedelta(minutes=i)) for i in range(n)]


async def test_the_feed_pages_newest_first_with_a_cursor() -> None:
    q = world(None, *reports(3)).intake.queries
    first = await q.feed(FeedFilter(), None, 2)
    second = await q.feed(FeedFilter(), first.next_cursor, 2)
    assert [r.id for r in first.reports + second.reports] == ["r2", "r1", "r0"]
    assert second.next_cursor is None


async def test_nearby_is_capped() -> None:
    with pytest.raises(InvalidInput, match="capped at 5000"):
        await world(None).intake.queries.nearby(16.0, 107.0, 5001, None)


async def test_the_timeline_needs_the_tracking_token() -> None:
    q = world(None, a_report(token_hash=rules.token_hash("t"))).intake.queries
    assert (await q.tracked("r1", "t")).id == "r1"
    with pytest.raises(InvalidToken):
        await q.tracked("r1", None)


async def test_a_pending_photo_is_not_served() -> None:
    w = world(None)
    await w.photos.put_pending(b"jpeg", "image/jpeg", "r1", "p1")
    with pytest.raises(NotFound):
        await w.intake.queries.photo("p1")
    await w.photos.confirm(["p1"], None)
    assert (await w.intake.queries.photo("p1")).data == b"jpeg"


async def test_an_id_of_the_wrong_shape_is_not_looked_up() -> None:
    with pytest.raises(NotFound):
        await world(None).intake.queries.get("../etc")


def test_open311_needs_a_known_api_key() -> None:
    o311 = world(None).intake.open311
    o311.authorize("k")
    with pytest.raises(Forbidden):
        o311.authorize("")


async def test_open311_create_drops_undefined_attributes_and_names_its_channel() -> None:
    w = world(CATALOG)
    draft = ReportDraft("streetlight", 16.0, 107.0, "tắt", attributes={"pole_id": "P", "x": "1"})
    created = await w.intake.open311.create(draft, idempotency_key=None, client="ip:1")
    assert (created.report.attributes, created.report.channel) == ({"pole_id": "P"}, "open311")


async def test_open311_lists_open_requests_only_when_asked() -> None:
    o311 = world(None, a_report("a"), a_report("b", status=Status.CLOSED)).intake.open311
    assert [r.id for r in await o311.requests(RequestFilter(open=True), 1, 10)] == ["a"]


async def test_open311_refuses_a_window_with_more_updates_than_the_cap() -> None:
    entries = tuple(TimelineEntry(f"e{i}", "report.assigned", None, T0) for i in range(4))
    o311 = world(None, a_report(timeline=entries)).intake.open311
    with pytest.raises(InvalidInput, match="more than 3 updates"):
        await o311.updates(T0 - timedelta(hours=1), T0 + timedelta(hours=1), "en")
