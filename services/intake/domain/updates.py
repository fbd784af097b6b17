"""Service request updates (mySociety's GeoReport v2 extension, `servicerequestupdates`).

Every timeline entry of a report is one update: `update_id` is the id of the event behind it
(stable: the same entry always answers the same id), `status` is the report's public status
right after intake recorded the entry (walking the timeline in the order it was stored, so an
out-of-order event that changed nothing repeats the status in force instead of moving it back),
in the extended statuses FixMyStreet's `map_state` understands. The text is the agency's or
operator's note (already public as `status_notes`) or a fixed sentence: never what the reporter
wrote (reopen reason, rating comment) and never who the reporter is.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from shared.events import Status, Topic

from .report import TimelineEntry

# Our public status -> mySociety extended status. FixMyStreet lower-cases it and turns `_` into
# a space (`map_state`): open -> confirmed, fixed -> fixed - council, no_further_action ->
# unable to fix; investigating, in progress and duplicate are its own states.
EXTENDED_STATUS: dict[Status, str] = {
    Status.RECEIVED: "open",
    Status.ASSIGNED: "investigating",
    Status.IN_PROGRESS: "in_progress",
    Status.RESOLVED: "fixed",
    # closed only ever follows resolved (rated, or auto-closed unrated): still fixed; plain
    # `closed` would read as "closed for another reason" on a FixMyStreet with extended statuses
    Status.CLOSED: "fixed",
    # rejected: spam or not a public matter (free-text reason) -> nothing more will be done
    Status.REJECTED: "no_further_action",
    Status.DUPLICATE: "duplicate",
}

_TEXT: dict[str, dict[str, str]] = {
    "assigned": {"vi": "Đã chuyển đến {agency}", "en": "Assigned to {agency}"},
    "accepted": {"vi": "{agency} đã tiếp nhận", "en": "Acknowledged by {agency}"},
    "in_progress": {"vi": "Đang xử lý", "en": "Work has started"},
    "resolved": {"vi": "Đã xử lý xong", "en": "Resolved"},
    "rejected": {"vi": "Không tiếp nhận", "en": "Not accepted"},
    "duplicate": {"vi": "Trùng với phản ánh khác", "en": "Duplicate of another report"},
    "escalated": {
        "vi": "Đã quá hạn xử lý; đã báo cấp trên",
        "en": "Past the agency's due time; escalated",
    },
    "rated": {"vi": "Người phản ánh đã đánh giá", "en": "Rated by the reporter"},
    "closed_rated": {
        "vi": "Đã đóng sau khi người phản ánh đánh giá",
        "en": "Closed after the reporter's rating",
    },
    "closed_auto": {
        "vi": "Tự động đóng: đã xử lý và không có đánh giá",
        "en": "Closed automatically: resolved and not rated in time",
    },
    "reopened": {"vi": "Người phản ánh mở lại phản ánh", "en": "Reopened by the reporter"},
}

# Entries written by intake itself: their `note` may be the reporter's own words.
_OWN = {Topic.REPORT_RATED, Topic.REPORT_CLOSED, Topic.REPORT_REOPENED}


@dataclass(frozen=True)
class Update:
    update_id: str
    service_request_id: str
    status: str
    updated_at: datetime
    description: str
    media_url: str
    external_status_code: str
    order: int  # position in the report's timeline (ties on the same instant)


def short_type(event_type: str) -> str:
    return event_type.removeprefix("report.")


def recorded(entry: TimelineEntry) -> datetime:
    """When intake stored the entry (entries from before `recorded_at` existed: the event's)."""
    return entry.recorded_at or entry.at


def _text(key: str, lang: str, **values: str) -> str:
    texts = _TEXT[key]
    return (texts.get(lang) or texts["vi"]).format(**values)


def description(entry: TimelineEntry, lang: str) -> str:
    kind = short_type(entry.type)
    note = (entry.note or "").strip()
    if entry.type == Topic.REPORT_CLOSED:
        return _text("closed_auto" if note == "auto" else "closed_rated", lang)
    if entry.type in _OWN:
        return _text(kind, lang) if kind in _TEXT else ""
    if note:  # an agency's or operator's note: public already as the report's status_notes
        return note
    if kind in _TEXT:
        return _text(kind, lang, agency=str(entry.agency_name or entry.agency_id))
    return ""


def report_updates(
    report_id: str,
    timeline: Sequence[TimelineEntry],
    lang: str,
    start: datetime,
    end: datetime,
) -> list[Update]:
    """The updates of one report recorded within [start, end]."""
    status = Status.RECEIVED
    out: list[Update] = []
    for index, entry in enumerate(timeline):
        if entry.status:
            status = Status(entry.status)
        at = recorded(entry)
        if not start <= at <= end or not entry.event_id:
            continue
        out.append(
            Update(
                update_id=entry.event_id,
                service_request_id=report_id,
                status=EXTENDED_STATUS[status],
                updated_at=at,
                description=description(entry, lang),
                media_url=entry.media_url or "",
                external_status_code=short_type(entry.type),
                order=index,
            )
        )
    return out


def in_window(
    timelines: Iterable[tuple[str, Sequence[TimelineEntry]]],
    lang: str,
    start: datetime,
    end: datetime,
) -> list[Update]:
    """All updates of these (report id, timeline) pairs in the window, oldest first (stable
    order)."""
    updates = [
        u
        for report_id, timeline in timelines
        for u in report_updates(report_id, timeline, lang, start, end)
    ]
    updates.sort(key=lambda u: (u.updated_at, u.service_request_id, u.order))
    return updates
