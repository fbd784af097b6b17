"""The states of an assignment and which action may start from which state."""

from __future__ import annotations

from enum import StrEnum


class AState(StrEnum):
    ASSIGNED = "assigned"
    ACCEPTED = "accepted"
    IN_PROGRESS = "in_progress"
    RESOLVED = "resolved"
    REJECTED = "rejected"
    DUPLICATE = "duplicate"


OPEN = frozenset({AState.ASSIGNED, AState.ACCEPTED, AState.IN_PROGRESS})
DONE = frozenset({AState.RESOLVED, AState.REJECTED, AState.DUPLICATE})


class Action(StrEnum):
    ROUTE = "route"  # first routing, or routing again after a reopen
    ACCEPT = "accept"
    START = "start"
    REJECT = "reject"  # agency: not ours -> re-routed
    TRANSFER = "transfer"
    ASSIGN = "assign"  # operator, by hand
    RESOLVE = "resolve"
    DISMISS = "dismiss"  # operator: spam / not a public matter
    DUPLICATE = "duplicate"
    ESCALATE = "escalate"
    RECATEGORIZE = "recategorize"  # operator: the category was wrong -> re-routed
    RESCHEDULE = "reschedule"  # a closure day moved the due time


# Which states each action may start from.
ALLOWED: dict[Action, frozenset[AState]] = {
    Action.ROUTE: DONE,
    Action.ACCEPT: frozenset({AState.ASSIGNED}),
    Action.START: frozenset({AState.ASSIGNED, AState.ACCEPTED}),
    Action.REJECT: frozenset({AState.ASSIGNED, AState.ACCEPTED}),
    Action.TRANSFER: OPEN,
    Action.ASSIGN: OPEN | DONE,
    Action.RESOLVE: OPEN,
    Action.DISMISS: OPEN,
    Action.DUPLICATE: OPEN,
    Action.ESCALATE: OPEN,
    Action.RECATEGORIZE: OPEN,
    Action.RESCHEDULE: OPEN,
}
