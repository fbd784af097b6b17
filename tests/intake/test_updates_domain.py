"""Timeline entries as Open311 service request updates (no I/O)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from services.intake.domain.report import TimelineEntry
from services.intake.domain.updates import in_window, report_updates

T0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
DAY = (T0 - timedelta(days=1), T0 + timedelta(days=1))


def entry(
    n: int, type_: str, status: str | None, note: str | None = None, **kw: Any
) -> TimelineEntry:
    at = T0 + timedelta(minutes=n)
    return TimelineEntry(
        event_id=f"ev-{n}",
        type=type_,
        status=status,
        at=at,
        recorded_at=at,
        agency_id="roads",
        agency_name="Roads",
        note=note,
        **kw,
    )


def test_an_entry_that_changed_nothing_repeats_the_status_in_force() -> None:
    timeline = [
        entry(1, "report.resolved", "resolved", "fixed"),
        entry(2, "report.in_progress", None),  # older sequence, arrived late
        entry(3, "report.escalated", None),
    ]
    assert [u.status for u in report_updates("r1", timeline, "en", *DAY)] == [
        "fixed",
        "fixed",
        "fixed",
    ]


def test_extended_statuses_for_every_public_status() -> None:
    timeline = [
        entry(1, "report.assigned", "assigned"),
        entry(2, "report.in_progress", "in_progress"),
        entry(3, "report.resolved", "resolved", "done"),
        entry(4, "report.closed", "closed", "auto"),
        entry(5, "report.reopened", "received", "still broken"),
        entry(6, "report.duplicate", "duplicate", "duplicate of r0"),
        entry(7, "report.rejected", "rejected", "spam"),
    ]
    assert [u.status for u in report_updates("r1", timeline, "en", *DAY)] == [
        "investigating",
        "in_progress",
        "fixed",
        "fixed",
        "open",
        "duplicate",
        "no_further_action",
    ]


def test_reporter_text_is_replaced_by_a_fixed_sentence() -> None:
    timeline = [
        entry(1, "report.reopened", "received", "call me on 0901234567"),
        entry(2, "report.rated", None, "rating 2/5"),
        entry(3, "report.closed", "closed", "rated"),
    ]
    texts = [u.description for u in report_updates("r1", timeline, "en", *DAY)]
    assert texts == [
        "Reopened by the reporter",
        "Rated by the reporter",
        "Closed after the reporter's rating",
    ]


def test_agency_note_is_the_text_and_a_missing_one_is_generated() -> None:
    timeline = [
        entry(1, "report.assigned", "assigned"),
        entry(2, "report.resolved", "resolved", "Patched", media_url="https://x/p.jpg"),
    ]
    updates = report_updates("r1", timeline, "en", *DAY)
    assert [u.description for u in updates] == ["Assigned to Roads", "Patched"]
    assert [u.media_url for u in updates] == ["", "https://x/p.jpg"]


def test_window_reads_recorded_time_and_falls_back_to_event_time() -> None:
    # happened long ago, reached intake now
    late = replace(entry(1, "report.assigned", "assigned"), at=T0 - timedelta(days=3))
    legacy = replace(entry(2, "report.in_progress", "in_progress"), recorded_at=None)
    window = (T0 - timedelta(hours=1), T0 + timedelta(hours=1))
    updates = report_updates("r1", [late, legacy], "en", *window)
    assert [u.update_id for u in updates] == ["ev-1", "ev-2"]
    assert updates[0].updated_at == T0 + timedelta(minutes=1)


def test_status_before_the_window_still_counts() -> None:
    timeline = [entry(1, "report.assigned", "assigned"), entry(90, "report.escalated", None)]
    window = (T0 + timedelta(minutes=30), T0 + timedelta(hours=2))
    updates = report_updates("r1", timeline, "en", *window)
    assert [(u.update_id, u.status) for u in updates] == [("ev-90", "investigating")]


def test_updates_of_several_reports_are_oldest_first() -> None:
    timelines = [
        ("b", [entry(2, "report.assigned", "assigned")]),
        ("a", [entry(1, "report.assigned", "assigned")]),
    ]
    assert [u.service_request_id for u in in_window(timelines, "en", *DAY)] == ["a", "b"]
