"""The per-report fact: a pure function of the *set* of events seen for one report.

Analytics keeps every event it receives (deduplicated by event id) and derives the fact from all
of them at once. Because each field below is chosen by a rule that looks at the whole set (a
minimum, a maximum by sequence, a count of distinct items), the fact is the same whatever order
events of different topics arrive in and however often each is delivered.

Field rules:
- `created_at`, `category`, `lat`/`lon`, `channel`: from `report.created` (the re-announced
  copies carry the same payload); location follows the latest `report.reopened` that changes it
  (by intake sequence); `category` the latest change of category: per source the latest
  `report.reopened` (intake) or `report.recategorized` (routing) by sequence, across the two the
  one written last (envelope time). Before `report.created` arrives, `category` falls back to
  the latest assignment's.
- `original_category`, `category_chosen_by`: `report.created`'s category and who chose it
  (its triage's `chosen_by`: resident or model); `recategorized`: distinct corrections.
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

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, tzinfo
from typing import Any

from shared.events import STATUS_SET_BY, Status, Topic

DONE_STATUSES = (Status.RESOLVED, Status.CLOSED)
# Open and under an agency's deadline: the statuses in which a report can be overdue.
UNDER_DEADLINE = (Status.ASSIGNED, Status.IN_PROGRESS)

# The events that can change a report's category: a resident's reopening, an operator's correction.
CATEGORY_CHANGES = (Topic.REPORT_REOPENED, Topic.REPORT_RECATEGORIZED)

# Payload fields analytics never needs; they are not kept (the sealed contact above all).
DROPPED = ("contact_sealed", "description", "photo_urls", "attributes", "address", "note")

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


def kept(data: Mapping[str, Any]) -> dict[str, Any]:
    """The part of a payload analytics keeps (without the `DROPPED` fields)."""
    return {k: v for k, v in data.items() if k not in DROPPED}


@dataclass(frozen=True)
class Recorded:
    """One event as analytics keeps it: envelope attributes and the payload."""

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


@dataclass(frozen=True)
class Fact:
    """What analytics knows about one report; every statistic is an aggregation of these."""

    report_id: str
    status: str
    created_at: datetime | None
    created_day: str | None
    created_week: str | None
    category: str | None
    original_category: str | None
    category_chosen_by: str | None
    recategorized: int
    lat: float | None
    lon: float | None
    channel: str | None
    assigned_at: datetime | None
    agency_id: str | None
    agency_name: str | None
    area_id: str | None
    assignment_id: str | None
    due_at: datetime | None
    attempts: int
    accepted_at: datetime | None
    started_at: datetime | None
    resolved_at: datetime | None
    resolved_day: str | None
    resolved_week: str | None
    on_time: bool | None
    closed_at: datetime | None
    rated_at: datetime | None
    rating: int | None
    reopen_count: int
    escalations: int
    time_to_assign_s: float | None
    time_to_resolve_s: float | None
    n_events: int


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


def _get(event: Recorded | None, key: str) -> Any:
    return event.data.get(key) if event is not None else None


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


class _History:
    """One report's distinct events, by topic."""

    def __init__(self, events: Iterable[Recorded]) -> None:
        self.unique = {e.id: e for e in events}
        self.by_topic: dict[str, list[Recorded]] = {}
        for e in self.unique.values():
            self.by_topic.setdefault(e.topic, []).append(e)

    def of(self, topic: Topic) -> list[Recorded]:
        return self.by_topic.get(topic, [])

    def latest(self, topic: Topic) -> Recorded | None:
        return _latest(self.of(topic))

    def where(self) -> tuple[str | None, float | None, float | None]:
        """Category (`category`) and location: creation's, then each reopen's changes."""
        loc = _get(self.latest(Topic.REPORT_CREATED), "location") or {}
        lat, lon = loc.get("lat"), loc.get("lon")
        for r in sorted(self.of(Topic.REPORT_REOPENED), key=lambda e: (e.source, e.order)):
            if r.data.get("location"):
                lat, lon = r.data["location"].get("lat"), r.data["location"].get("lon")
        return self.category(), lat, lon

    def category(self) -> str | None:
        """The latest change (per source by sequence, across sources the latest written), else
        creation's, else the assignment's."""
        changes = [e for t in CATEGORY_CHANGES for e in self.of(t) if e.data.get("category")]
        per_source: dict[str, Recorded] = {}
        for e in changes:
            if e.source not in per_source or e.order > per_source[e.source].order:
                per_source[e.source] = e
        latest = max(per_source.values(), key=lambda e: (e.time, e.source, e.order), default=None)
        category: str | None = (
            _get(latest, "category")
            or _get(self.latest(Topic.REPORT_CREATED), "category")
            or _get(self.latest(Topic.REPORT_ASSIGNED), "category")
        )
        return category

    def on_time(self, resolved_at: datetime | None) -> bool | None:
        """Routing's flag, else the resolution against the due time of its assignment."""
        resolved = self.latest(Topic.REPORT_RESOLVED)
        if resolved is None:
            return None
        flag = resolved.data.get("on_time")
        if flag is not None:
            return bool(flag)
        assignments = self.of(Topic.REPORT_ASSIGNED)
        due_by_assignment = {
            e.data.get("assignment_id"): _dt(e.data.get("due_at")) for e in assignments
        }
        due = due_by_assignment.get(resolved.data.get("assignment_id")) or _dt(
            _get(self.latest(Topic.REPORT_ASSIGNED), "due_at")
        )
        return None if due is None or resolved_at is None else resolved_at <= due

    def escalations(self) -> int:
        return len(
            {
                (e.data.get("assignment_id"), e.data.get("level", 1))
                for e in self.of(Topic.REPORT_ESCALATED)
            }
        )


def build_fact(report_id: str, events: Iterable[Recorded], tz: tzinfo) -> Fact:
    """The fact of one report from all its events (order and duplicates irrelevant)."""
    h = _History(events)
    created, assigned = h.latest(Topic.REPORT_CREATED), h.latest(Topic.REPORT_ASSIGNED)
    rated, closed = h.latest(Topic.REPORT_RATED), h.latest(Topic.REPORT_CLOSED)
    category, lat, lon = h.where()
    created_at = _first_time(h.of(Topic.REPORT_CREATED), "created_at")
    assigned_at = _first_time(h.of(Topic.REPORT_ASSIGNED), "assigned_at")
    resolved_at = _dt(_get(h.latest(Topic.REPORT_RESOLVED), "resolved_at"))
    status = status_of(h.unique.values())
    done = status in DONE_STATUSES
    created_day, created_week = _day_keys(created_at, tz)
    resolved_day, resolved_week = _day_keys(resolved_at if done else None, tz)
    return Fact(
        report_id=report_id,
        status=str(status),
        created_at=created_at,
        created_day=created_day,
        created_week=created_week,
        category=category,
        original_category=_get(created, "category"),
        category_chosen_by=(_get(created, "triage") or {}).get("chosen_by"),
        recategorized=len(h.of(Topic.REPORT_RECATEGORIZED)),
        lat=lat,
        lon=lon,
        channel=_get(created, "channel"),
        assigned_at=assigned_at,
        agency_id=_get(assigned, "agency_id"),
        agency_name=_get(assigned, "agency_name"),
        area_id=_get(assigned, "area_id"),
        assignment_id=_get(assigned, "assignment_id"),
        due_at=_dt(_get(assigned, "due_at")),
        attempts=max(
            (int(e.data.get("attempt", 1)) for e in h.of(Topic.REPORT_ASSIGNED)), default=0
        ),
        accepted_at=_first_time(h.of(Topic.REPORT_ACCEPTED), "at"),
        started_at=_first_time(h.of(Topic.REPORT_IN_PROGRESS), "at"),
        resolved_at=resolved_at,
        resolved_day=resolved_day,
        resolved_week=resolved_week,
        on_time=h.on_time(resolved_at) if done else None,
        closed_at=_dt(_get(closed, "at")),
        rated_at=_dt(_get(rated, "at")),
        rating=_get(rated, "rating"),
        reopen_count=len({(e.source, e.sequence) for e in h.of(Topic.REPORT_REOPENED)}),
        escalations=h.escalations(),
        time_to_assign_s=_seconds(assigned_at, created_at),
        time_to_resolve_s=_seconds(resolved_at, created_at) if done else None,
        n_events=len(h.unique),
    )
