"""How the store maps a report to its document and a change to an update (no I/O), with the
index-only fields the lookups need (`open_cells` while open, `upkeep_at` for housekeeping)."""

from __future__ import annotations

from datetime import timedelta

from services.intake.domain.cells import cell_of
from services.intake.domain.projection import Fact, apply
from services.intake.stores.documents import (
    derived_of_document,
    derived_update,
    from_document,
    to_document,
    update_of,
)
from shared.events import Status
from tests.intake.fakes import ROUTING, T0, a_report

CELL = cell_of(16.46, 107.59).key
LATER = T0 + timedelta(minutes=1)


def resolved(report_id: str = "r1") -> Fact:
    return Fact("e9", report_id, "report.resolved", ROUTING, 3, LATER, Status.RESOLVED)


def test_a_report_round_trips_through_its_document() -> None:
    report = a_report(timeline=(), sequence=4)
    doc = to_document(report)
    assert (doc["_id"], doc["status"], doc["sequence"]) == ("r1", "received", 4)
    assert "location" not in doc  # no 2dsphere index any more
    assert from_document(doc) == report


def test_an_open_report_is_keyed_by_its_cell_alone_and_with_its_category() -> None:
    doc = to_document(a_report())
    assert doc["open_cells"] == [CELL, f"pothole@{CELL}"]
    assert doc["upkeep_at"] == T0  # received: the reconciler goes by the last announcement


def test_a_closed_report_has_no_lookup_fields() -> None:
    doc = to_document(a_report(status=Status.CLOSED))
    assert "open_cells" not in doc
    assert "upkeep_at" not in doc


def test_resolving_drops_the_cells_and_keys_the_report_for_auto_close() -> None:
    before = a_report(status=Status.ASSIGNED)
    update = update_of(before, apply(before, resolved(), LATER))
    assert update["$unset"] == {"open_cells": ""}
    assert update["$set"]["upkeep_at"] == LATER


def test_reopening_puts_the_cells_back_and_keys_it_for_the_reconciler() -> None:
    before = a_report(status=Status.CLOSED)
    update = update_of(before, before.reopened("still broken", LATER, "e10"))
    assert update["$set"]["open_cells"] == [CELL, f"pothole@{CELL}"]
    assert update["$set"]["upkeep_at"] == LATER


def test_a_projected_event_sets_only_what_changed_and_pushes_its_entry() -> None:
    before = a_report()
    fact = Fact("e1", "r1", "report.in_progress", ROUTING, 2, LATER, Status.IN_PROGRESS)
    update = update_of(before, apply(before, fact, LATER))
    assert update["$set"] == {
        "seq.fieldreports_routing": 2,
        "status": "in_progress",
        "status_at": LATER,
        "updated_at": LATER,
    }
    assert update["$unset"] == {"upkeep_at": ""}  # nothing for the housekeeping loop to do
    [entry] = update["$push"]["timeline"]["$each"]
    assert (entry["event_id"], entry["status"]) == ("e1", "in_progress")


def test_a_support_is_an_increment() -> None:
    before = a_report()
    update = update_of(before, before.supported(LATER))
    assert update == {"$set": {"updated_at": LATER}, "$inc": {"supporters": 1}}


def test_no_change_is_no_update() -> None:
    assert update_of(a_report(), a_report()) == {}


def test_a_document_without_lookup_fields_is_caught_up_and_a_current_one_is_left() -> None:
    old = to_document(a_report())
    del old["open_cells"], old["upkeep_at"]
    update = derived_update(old, derived_of_document(old))
    assert update == {"$set": {"open_cells": [CELL, f"pothole@{CELL}"], "upkeep_at": T0}}
    current = to_document(a_report())
    assert derived_update(current, derived_of_document(current)) == {}


def test_a_copied_document_keyed_elsewhere_is_keyed_again_where_it_is() -> None:
    moved = {**to_document(a_report()), "lat": 16.47}  # moved ~1 km north, keys left as they were
    update = derived_update(moved, derived_of_document(moved))
    assert update["$set"]["open_cells"][0] == cell_of(16.47, 107.59).key
