"""The per-report fact: a pure function of the *set* of events seen for one report.

Analytics keeps every event it receives (deduplicated by event id) and derives the fact from all
of them at once. Because each field below is chosen by a rule that looks at the whole set (a
minimum, a maximum by sequence, a count of distinct items), the fact is the same whatever order
events of different topics arrive in and however often each is delivered.

Field rules:
- `created_at`, `category`, `lat`/`lon`, `channel`: from `report.created` (the re-announced
  copies carry the same payload); `category` and location follow the latest `report.reopened`
  that changes them (by intake sequence). Before `report.created` arrives, `category` falls back
  to the latest assignment's.
- `assigned_at`: the first assignment (minimum `assigned_at`).
- `agency_id`, `agency_name`, `area_id`, `assignment_id`, `due_at`: the latest assignment by
  routing sequence; `attempts` the highest `attempt`.
- `accepted_at`, `started_at`: the first acceptance / start of work (minimum time).
- `resolved_at`, `on_time`: the latest resolution by routing sequence. `on_time` is the
  resolution's own flag when routing sent one, else `resolved_at <= due_at` of the assignment it
  resolves (or the latest assignment's due time).
- `closed_at`, `rating`, `rated_at`: the latest close / rating by intake sequence.
- `reopen_count`: distinct reopen events (by intake sequence); `escalations`: distinct
  (assignment, level) escalations.
- `status`: each source's latest status-bearing event by that source's sequence; across sources
  the one written last (envelope time) wins, ties broken by a fixed precedence. `report.created`
  is weak: any other status event overrides it (a re-announced report that routing assigned is
  `assigned`). Escalations, ratings and supports carry no status.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, tzinfo
from typing import Any

from shared.events import STATUS_SET_BY, Status, Topic

OPEN_STATUSES = (Status.RECEIVED, Status.ASSIGNED, Status.IN_PROGRESS)
DONE_STATUSES = (Status.RESOLVED, Status.CLOSED)


# Tie-break when two sources wrote status events at the same instant: later in the lifecycle wins.
PRECEDENCE: dict[Status, int] = {
    s: i
    for i, s in enumerate(
        [
            Status.RECEIVED,
            Status.ASSIGNED,
            Status.IN_PROGRESS,
            Status.RESOLVED,
            Status.DUPLICATE,
            Status.REJECTED,
            Status.CLOSED,
        ]
    )
}


@dataclass(frozen=True)
class Recorded:
    """One event as analytics stored it: envelope attributes and the payload."""

    id: str
    topic: str
    source: str
    sequence: int
    time: datetime
    data: dict[str, Any] = field(default_factory=dict)

    @property
    def order(self) -> tuple[int, str]:
        """Position within its source: sequence, then id so equal sequences still sort stably."""
        return (self.sequence, self.id)


def _dt(value: Any) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value
    return datetime.fromisoformat(str(value))


def _latest(events: Iterable[Recorded]) -> Recorded | None:
    return max(events, key=lambda e: (e.source, e.order), default=None)


def _first_time(events: Iterable[Recorded], key: str) -> datetime | None:
    times = [t for t in (_dt(e.data.get(key)) for e in events) if t is not None]
    return min(times, default=None)


def status_of(events: Iterable[Recorded]) -> Status:
    """Per source the latest status event by sequence; across sources the latest written."""
    per_source: dict[str, Recorded] = {}
    for e in events:
        if e.topic not in STATUS_SET_BY:
            continue
        cur = per_source.get(e.source)
        if cur is None or e.order > cur.order:
            per_source[e.source] = e
    strong = [e for e in per_source.values() if e.topic != Topic.REPORT_CREATED]
    if not strong:
        return Status.RECEIVED
    winner = max(strong, key=lambda e: (e.time, PRECEDENCE[STATUS_SET_BY[e.topic]], e.source, e.id))
    return STATUS_SET_BY[winner.topic]


def week_start(day: date) -> date:
    """Monday of the ISO week containing `day`."""
    return day - timedelta(days=day.weekday())


def _day_keys(at: datetime | None, tz: tzinfo) -> tuple[str | None, str | None]:
    if at is None:
        return None, None
    local = at.astimezone(tz).date()
    return local.isoformat(), week_start(local).isoformat()


def _seconds(later: datetime | None, earlier: datetime | None) -> float | None:
    if later is None or earlier is None:
        return None
    return max((later - earlier).total_seconds(), 0.0)


def build_fact(report_id: str, events: Iterable[Recorded], tz: tzinfo) -> dict[str, Any]:
    """The fact document of one report from all its events (order and duplicates irrelevant)."""
    unique = {e.id: e for e in events}
    by_topic: dict[str, list[Recorded]] = {}
    for e in unique.values():
        by_topic.setdefault(e.topic, []).append(e)

    def of(topic: Topic) -> list[Recorded]:
        return by_topic.get(topic, [])

    created = _latest(of(Topic.REPORT_CREATED))
    created_at = _first_time(of(Topic.REPORT_CREATED), "created_at")
    assigned = _latest(of(Topic.REPORT_ASSIGNED))
    resolved = _latest(of(Topic.REPORT_RESOLVED))
    closed = _latest(of(Topic.REPORT_CLOSED))
    rated = _latest(of(Topic.REPORT_RATED))
    reopens = of(Topic.REPORT_REOPENED)

    category: str | None = None
    lat = lon = None
    if created is not None:
        category = created.data.get("category")
        loc = created.data.get("location") or {}
        lat, lon = loc.get("lat"), loc.get("lon")
    for r in sorted(reopens, key=lambda e: (e.source, e.order)):
        category = r.data.get("category") or category
        if r.data.get("location"):
            lat, lon = r.data["location"].get("lat"), r.data["location"].get("lon")
    if category is None and assigned is not None:
        category = assigned.data.get("category")

    due_by_assignment = {
        e.data.get("assignment_id"): _dt(e.data.get("due_at")) for e in of(Topic.REPORT_ASSIGNED)
    }
    due_at = _dt(assigned.data.get("due_at")) if assigned else None
    resolved_at = _dt(resolved.data.get("resolved_at")) if resolved else None
    on_time: bool | None = None
    if resolved is not None:
        flag = resolved.data.get("on_time")
        if flag is not None:
            on_time = bool(flag)
        else:
            due = due_by_assignment.get(resolved.data.get("assignment_id")) or due_at
            on_time = None if due is None or resolved_at is None else resolved_at <= due

    status = status_of(unique.values())
    assigned_at = _first_time(of(Topic.REPORT_ASSIGNED), "assigned_at")
    done = status in DONE_STATUSES
    created_day, created_week = _day_keys(created_at, tz)
    resolved_day, resolved_week = _day_keys(resolved_at if done else None, tz)
    return {
        "_id": report_id,
        "status": str(status),
        "created_at": created_at,
        "created_day": created_day,
        "created_week": created_week,
        "category": category,
        "lat": lat,
        "lon": lon,
        "channel": created.data.get("channel") if created else None,
        "assigned_at": assigned_at,
        "agency_id": assigned.data.get("agency_id") if assigned else None,
        "agency_name": assigned.data.get("agency_name") if assigned else None,
        "area_id": assigned.data.get("area_id") if assigned else None,
        "assignment_id": assigned.data.get("assignment_id") if assigned else None,
        "due_at": due_at,
        "attempts": max(
            (int(e.data.get("attempt", 1)) for e in of(Topic.REPORT_ASSIGNED)), default=0
        ),
        "accepted_at": _first_time(of(Topic.REPORT_ACCEPTED), "at"),
        "started_at": _first_time(of(Topic.REPORT_IN_PROGRESS), "at"),
        "resolved_at": resolved_at,
        "resolved_day": resolved_day,
        "resolved_week": resolved_week,
        "on_time": on_time if done else None,
        "closed_at": _dt(closed.data.get("at")) if closed else None,
        "rated_at": _dt(rated.data.get("at")) if rated else None,
        "rating": rated.data.get("rating") if rated else None,
        "reopen_count": len({(e.source, e.sequence) for e in reopens}),
        "escalations": len(
            {
                (e.data.get("assignment_id"), e.data.get("level", 1))
                for e in of(Topic.REPORT_ESCALATED)
            }
        ),
        "time_to_assign_s": _seconds(assigned_at, created_at),
        "time_to_resolve_s": _seconds(resolved_at, created_at) if done else None,
        "n_events": len(unique),
    }
