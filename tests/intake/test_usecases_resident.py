"""The resident's actions (use cases over fakes, no I/O): each change and its events in one
commit; a refusal changes and emits nothing."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from services.intake.domain import rules
from services.intake.domain.errors import AlreadySupported, InvalidToken, NotOpen, NotResolved
from services.intake.domain.report import Report
from shared.events import ReportReopenedV1, ReportSupportedV1, Status
from tests.intake.fakes import T0, World, a_report, world

TOKEN = "secret-token"


def resolved(**over: Any) -> Report:
    base: dict[str, Any] = {"status": Status.RESOLVED, "resolved_at": T0}
    return a_report(token_hash=rules.token_hash(TOKEN), **{**base, **over})


def with_later_clock(*reports: Report) -> World:
    w = world(None, *reports)
    w.clock[0] = T0 + timedelta(hours=1)
    return w


async def test_rating_closes_the_report_with_rated_then_closed() -> None:
    w = with_later_clock(resolved())
    report = await w.intake.resident.rate("r1", TOKEN, 4, "ok")
    assert (report.status, report.rating and report.rating.rating) == (Status.CLOSED, 4)
    assert [e.type for e in w.tx.emitted] == ["report.rated", "report.closed"]
    assert [e.event_id for e in report.timeline] == [e.id for e in w.tx.emitted]


async def test_rating_an_unresolved_report_changes_and_emits_nothing() -> None:
    w = world(None, a_report(token_hash=rules.token_hash(TOKEN)))
    with pytest.raises(NotResolved):
        await w.intake.resident.rate("r1", TOKEN, 5, None)
    assert (w.reports.by_id["r1"].status, w.tx.emitted, w.tx.rollbacks) == (
        Status.RECEIVED,
        [],
        1,
    )


async def test_a_wrong_token_is_refused_before_any_change() -> None:
    w = world(None, resolved())
    with pytest.raises(InvalidToken):
        await w.intake.resident.rate("r1", "guess", 5, None)
    assert w.tx.commits + w.tx.rollbacks == 0


async def test_reopening_brings_a_closed_report_back_to_received() -> None:
    w = with_later_clock(resolved(status=Status.CLOSED, overdue=True))
    report = await w.intake.resident.reopen("r1", TOKEN, "still broken")
    assert (report.status, report.resolved_at, report.overdue) == (Status.RECEIVED, None, False)
    assert (report.reopen_count, report.announced_at) == (1, w.clock[0])
    [event] = w.tx.emitted
    assert event.payload(ReportReopenedV1).category == "pothole"


async def test_reopening_an_open_report_is_refused() -> None:
    w = world(None, a_report(token_hash=rules.token_hash(TOKEN)))
    with pytest.raises(NotResolved):
        await w.intake.resident.reopen("r1", TOKEN, "why")
    assert w.tx.emitted == []


async def test_support_counts_once_per_client() -> None:
    w = world(None, a_report())
    first = await w.intake.resident.support("r1", "app|10.0.0.1|ua")
    with pytest.raises(AlreadySupported):
        await w.intake.resident.support("r1", "app|10.0.0.1|ua")
    other = await w.intake.resident.support("r1", "app2|10.0.0.2|ua")
    assert (first.supporters, other.supporters) == (1, 2)
    counts = [e.payload(ReportSupportedV1).supporters for e in w.tx.emitted]
    assert counts == [1, 2]


async def test_a_closed_report_cannot_be_supported() -> None:
    w = world(None, a_report(status=Status.CLOSED))
    with pytest.raises(NotOpen):
        await w.intake.resident.support("r1", "c")
    assert w.reports.by_id["r1"].supporters == 0
