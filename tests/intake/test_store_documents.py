"""How the store maps a report to its document and a change to an update (no I/O)."""

from __future__ import annotations

from datetime import timedelta

from services.intake.domain.projection import Fact, apply
from services.intake.stores.documents import from_document, to_document, update_of
from shared.events import Status
from tests.intake.fakes import ROUTING, T0, a_report


def test_a_report_round_trips_through_its_document() -> None:
    report = a_report(timeline=())
    doc = to_document(report)
    assert (doc["_id"], doc["status"]) == ("r1", "received")
    assert doc["location"] == {"type": "Point", "coordinates": [107.59, 16.46]}
    assert from_document(doc) == report


def test_a_projected_event_sets_only_what_changed_and_pushes_its_entry() -> None:
    before = a_report()
    at = T0 + timedelta(minutes=1)
    fact = Fact("e1", "r1", "report.in_progress", ROUTING, 2, at, Status.IN_PROGRESS)
    update = update_of(before, apply(before, fact, at))
    assert update["$set"] == {
        "seq.fieldreports_routing": 2,
        "status": "in_progress",
        "status_at": at,
        "updated_at": at,
    }
    [entry] = update["$push"]["timeline"]["$each"]
    assert (entry["event_id"], entry["status"]) == ("e1", "in_progress")


def test_a_support_is_an_increment() -> None:
    before = a_report()
    update = update_of(before, before.supported(T0 + timedelta(minutes=1)))
    assert update == {"$set": {"updated_at": T0 + timedelta(minutes=1)}, "$inc": {"supporters": 1}}


def test_no_change_is_no_update() -> None:
    assert update_of(a_report(), a_report()) == {}
