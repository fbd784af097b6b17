"""Queues of assignments (what a filter shows, in which order) and the due times that the
deadline check reads."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from services.routing.domain.assignment import Assignment


@dataclass(frozen=True)
class QueueFilter:
    """What a queue shows; every filter applies in the query, before `limit`."""

    agency_id: str | None = None
    statuses: list[str] | None = None
    category: str | None = None
    report_id: str | None = None
    overdue: bool | None = None  # open and past due (true), or not (false), as of `now`
    limit: int = 100

    def matches(self, a: Assignment, now: datetime) -> bool:
        return (
            (self.agency_id is None or a.agency_id == self.agency_id)
            and (not self.statuses or a.status in self.statuses)
            and (not self.category or a.category == self.category)
            and (not self.report_id or a.report_id == self.report_id)
            and (self.overdue is None or a.overdue(now) == self.overdue)
        )


def queue_order(items: Iterable[Assignment], now: datetime) -> list[Assignment]:
    """A queue: overdue first, then by due time."""
    return sorted(items, key=lambda a: (not a.overdue(now), a.due_at))


@dataclass(frozen=True)
class DueTime:
    """What the deadline check reads of an open assignment."""

    assignment_id: str
    agency_id: str
    due_at: datetime
    escalated_due: datetime | None = None

    def overdue(self, now: datetime) -> bool:
        return self.due_at < now

    def breached(self, now: datetime) -> bool:
        """Past due and not yet escalated for this due time (`Assignment.breached`)."""
        return self.overdue(now) and self.escalated_due != self.due_at
