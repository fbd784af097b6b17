"""Status projection: same result whatever the order of topics and however often events come."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

from services.intake.domain.projection import Fact, project
from shared.events import Status

T0 = datetime(2026, 3, 1, tzinfo=UTC)
ROUTING = "/fieldreports/routing"


def fact(seq: int, status: Status | None, **kw: Any) -> Fact:
    return Fact(
        event_id=f"e{seq}",
        type="t",
        source=ROUTING,
        sequence=seq,
        at=T0 + timedelta(minutes=seq),
        status=status,
        **kw,
    )


ASSIGNED = fact(
    1, Status.ASSIGNED, agency_id="a1", agency_name="Roads", due_at=T0 + timedelta(days=3)
)
STARTED = fact(2, Status.IN_PROGRESS, agency_id="a1")
RESOLVED = fact(3, Status.RESOLVED, agency_id="a1", note="patched")


def replay(facts: list[Fact]) -> dict[str, Any]:
    """Applies facts the way the store does: `$set` of dotted paths on a nested document."""
    view: dict[str, Any] = {"status": "received", "seq": {}, "assign_seq": {}}
    for f in facts:
        changes, _ = project(view, f, T0)
        for path, value in changes.items():
            target = view
            *parents, leaf = path.split(".")
            for p in parents:
                target = target.setdefault(p, {})
            target[leaf] = value
    return view


def test_in_order_events_end_resolved_with_agency() -> None:
    view = replay([ASSIGNED, STARTED, RESOLVED])
    assert (view["status"], view["agency_name"], view["status_notes"]) == (
        "resolved",
        "Roads",
        "patched",
    )


def test_every_order_gives_the_same_status_and_agency() -> None:
    outcomes = {
        (v["status"], v["agency_id"], v["expected_at"])
        for v in (replay(list(p)) for p in itertools.permutations([ASSIGNED, STARTED, RESOLVED]))
    }
    assert outcomes == {("resolved", "a1", T0 + timedelta(days=3))}


def test_duplicate_delivery_changes_nothing_more() -> None:
    assert replay([ASSIGNED, RESOLVED, ASSIGNED, RESOLVED]) == replay([ASSIGNED, RESOLVED])


def test_older_status_is_not_applied_but_reported_as_not_applied() -> None:
    view = replay([ASSIGNED, RESOLVED])
    changes, applied = project(view, STARTED, T0)
    assert not applied
    assert "status" not in changes


def test_escalation_flags_overdue_without_changing_status() -> None:
    view = replay([ASSIGNED, fact(2, None, agency_id="a1", escalated=True)])
    assert (view["status"], view["overdue"]) == ("assigned", True)


def test_reassignment_replaces_agency_and_clears_overdue() -> None:
    later = fact(4, Status.ASSIGNED, agency_id="a2", agency_name="Ward 3", due_at=T0)
    view = replay([ASSIGNED, fact(2, None, agency_id="a1", escalated=True), later])
    assert (view["agency_id"], view["overdue"]) == ("a2", False)
