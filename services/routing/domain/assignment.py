"""An assignment: one per report, moving between agencies until it is resolved.

The assignment is a plain dataclass with its history; the store maps it to a document. Every
state change goes through one of its methods (`move_to`, `set_status`, `reject_by_agency`,
`resolve`, `mark_duplicate`, `escalate`), which refuse what the workflow does not allow
(`ALLOWED`) and record who (a staff account of an agency, an operator, the system) and when.
The reporter's identity is never part of it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from services.routing.domain.errors import InvalidDuplicate, InvalidTransition
from services.routing.domain.jurisdiction import AreaHit, Jurisdiction, choose
from services.routing.domain.states import ALLOWED, DONE, OPEN, Action, AState

__all__ = ["DONE", "OPEN", "SYSTEM", "AState", "Action", "Actor", "Assignment", "new_assignment"]


# When a report falls due if assigned to an agency now (the working-time clock of that agency).
DueFor = Callable[[str], datetime]


@dataclass(frozen=True)
class Actor:
    """Who acted: a staff account (sub + agency), an operator, an admin or `system`."""

    sub: str
    agency_id: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"sub": self.sub, "agency_id": self.agency_id}


SYSTEM = Actor("system")


@dataclass
class Assignment:
    id: str
    report_id: str
    category: str
    lon: float
    lat: float
    agency_id: str
    status: AState
    due_at: datetime
    attempt: int
    created_at: datetime
    assigned_at: datetime
    reason: str = "rule"
    rule_id: str | None = None
    area_id: str | None = None
    rejected_by: list[str] = field(default_factory=list)
    duplicate_of: str | None = None
    escalated_due: datetime | None = None
    escalations: int = 0
    note: str | None = None
    photo_ids: list[str] = field(default_factory=list)
    history: list[dict[str, Any]] = field(default_factory=list)
    # Highest `sequence` applied from intake (report.created / report.reopened) for this report.
    intake_seq: int = 0
    # The payloads last emitted, re-emitted when intake re-announces the report (reconciliation).
    last_assigned: dict[str, Any] | None = None
    last_state: dict[str, Any] | None = None
    # The `sequence` of the last event routing emitted for this report (the next one gets +1).
    event_seq: int = 0
    # What the category model said at filing ({category, confidence}, most likely first), and
    # whether it disputed the resident's category (then the report waits in triage).
    suggestions: list[dict[str, Any]] = field(default_factory=list)
    disputed: bool = False

    def is_open(self) -> bool:
        return self.status in OPEN

    def next_sequence(self) -> int:
        """The sequence of the next event of this report (kept with it: no counter to read)."""
        self.event_seq += 1
        return self.event_seq

    def overdue(self, now: datetime) -> bool:
        return self.is_open() and self.due_at < now

    def breached(self, now: datetime) -> bool:
        """Past due and not yet escalated for this due time (one escalation per breach)."""
        return self.overdue(now) and self.escalated_due != self.due_at

    def check(self, action: Action) -> None:
        if self.status not in ALLOWED[action]:
            raise InvalidTransition(
                f"cannot {action.value} an assignment that is {self.status.value}"
            )

    def record(self, action: Action, actor: Actor, at: datetime, **details: Any) -> None:
        entry = {"action": action.value, "by": actor.as_dict(), "at": at, "status": self.status}
        entry.update({k: v for k, v in details.items() if v is not None})
        self.history.append(entry)

    def move_to(
        self,
        agency_id: str,
        *,
        action: Action,
        actor: Actor,
        at: datetime,
        due_at: datetime,
        reason: str,
        rule_id: str | None = None,
        area_id: str | None = None,
        note: str | None = None,
    ) -> None:
        """(Re-)assigns to an agency: a new attempt with a fresh due time."""
        self.check(action)
        previous = self.agency_id
        self.agency_id = agency_id
        self.status = AState.ASSIGNED
        self.attempt += 1
        self.assigned_at = at
        self.due_at = due_at
        self.reason, self.rule_id, self.area_id = reason, rule_id, area_id
        self.duplicate_of = None
        self.record(
            action, actor, at, from_agency=previous, to_agency=agency_id, reason=reason, note=note
        )

    def set_status(
        self, action: Action, new: AState, actor: Actor, at: datetime, note: str | None = None
    ) -> None:
        self.check(action)
        self.status = new
        self.record(action, actor, at, note=note)

    def reject_by_agency(
        self,
        actor: Actor,
        at: datetime,
        reason: str,
        *,
        jurisdiction: Jurisdiction,
        hits: Sequence[AreaHit],
        due: DueFor,
    ) -> None:
        """Not ours: re-routed at `at` to the next agency by the rules that has not rejected it,
        else the fallback; the rejecter is remembered so that re-routing never sends it back,
        and the history entry keeps who rejected it, when and `reason`."""
        if self.agency_id == jurisdiction.fallback_agency:
            raise InvalidTransition(
                "the triage desk cannot reject: assign, transfer or dismiss it instead"
            )
        self.check(Action.REJECT)
        if self.agency_id not in self.rejected_by:
            self.rejected_by.append(self.agency_id)
        self._reroute(Action.REJECT, actor, at, jurisdiction, hits, due, reason)

    def _reroute(
        self,
        action: Action,
        actor: Actor,
        at: datetime,
        j: Jurisdiction,
        hits: Sequence[AreaHit],
        due: DueFor,
        note: str | None,
    ) -> None:
        """To the first agency by the rules of its category that has not rejected it."""
        decision = choose(j, self.category, hits, self.rejected_by)
        self.move_to(
            decision.agency_id,
            action=action,
            actor=actor,
            at=at,
            due_at=due(decision.agency_id),
            reason="reroute",
            rule_id=decision.rule_id,
            area_id=decision.area_id,
            note=note,
        )

    def recategorize(
        self,
        category: str,
        actor: Actor,
        at: datetime,
        note: str | None,
        *,
        jurisdiction: Jurisdiction,
        hits: Sequence[AreaHit],
        due: DueFor,
    ) -> str:
        """The category was wrong: changed, then re-routed by the new category's rules (never
        to an agency that rejected it); returns the previous category."""
        self.check(Action.RECATEGORIZE)
        if category == self.category:
            raise InvalidTransition(f"the report is already of category {category!r}")
        previous, self.category, self.disputed = self.category, category, False
        why = f"{previous} -> {category}" + (f": {note}" if note else "")
        self._reroute(Action.RECATEGORIZE, actor, at, jurisdiction, hits, due, why)
        return previous

    def reschedule(self, due_at: datetime, at: datetime, why: str) -> None:
        """The due time of this attempt moved (a closure day added or removed)."""
        self.check(Action.RESCHEDULE)
        self.record(Action.RESCHEDULE, SYSTEM, at, from_due=self.due_at, to_due=due_at, note=why)
        self.due_at = due_at

    def resolve(self, actor: Actor, at: datetime, note: str, photo_ids: list[str]) -> bool:
        """Resolved with a note and photos; returns whether it was on time."""
        on_time = at <= self.due_at
        self.set_status(Action.RESOLVE, AState.RESOLVED, actor, at, note)
        self.note, self.photo_ids = note, list(photo_ids)
        return on_time

    def resolve_with(self, original: Assignment, actor: Actor, at: datetime) -> None:
        """A duplicate is resolved with its original, with the original's note and photos."""
        self.status = AState.RESOLVED
        self.note, self.photo_ids = original.note, list(original.photo_ids)
        self.record(Action.RESOLVE, actor, at, note=f"original {original.report_id} resolved")

    def mark_duplicate(self, actor: Actor, at: datetime, root_report_id: str) -> None:
        """Duplicates the report `root_report_id` (the root of its group): resolved with it."""
        if root_report_id == self.report_id:
            raise InvalidDuplicate("a report cannot duplicate itself")
        self.set_status(Action.DUPLICATE, AState.DUPLICATE, actor, at, f"of {root_report_id}")
        self.duplicate_of = root_report_id

    def reopen_ignored(self, sequence: int) -> str | None:
        """Why a `report.reopened` of this `sequence` must not route it again (None: it must)."""
        if self.is_open():
            return "still open"
        if sequence <= self.intake_seq:
            return "older than what was applied"
        return None

    def escalate(self, at: datetime) -> int:
        self.check(Action.ESCALATE)
        self.escalated_due = self.due_at
        self.escalations += 1
        self.record(Action.ESCALATE, SYSTEM, at, level=self.escalations)
        return self.escalations


def new_assignment(
    *,
    assignment_id: str,
    report_id: str,
    category: str,
    lon: float,
    lat: float,
    agency_id: str,
    at: datetime,
    due_at: datetime,
    reason: str,
    rule_id: str | None,
    area_id: str | None,
) -> Assignment:
    a = Assignment(
        id=assignment_id,
        report_id=report_id,
        category=category,
        lon=lon,
        lat=lat,
        agency_id=agency_id,
        status=AState.ASSIGNED,
        due_at=due_at,
        attempt=1,
        created_at=at,
        assigned_at=at,
        reason=reason,
        rule_id=rule_id,
        area_id=area_id,
    )
    a.record(Action.ROUTE, SYSTEM, at, to_agency=agency_id, reason=reason)
    return a
