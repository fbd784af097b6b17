"""How a `Report` is stored: its document, and the update that turns one state into the next.

The domain hands over whole `Report` values; this module alone knows the document: `_id`, `$set`
of the fields that changed (dotted paths into the per-source sequence maps, so two sources never
overwrite each other's), `$push` of new timeline entries, `$inc` of counters, and two fields
derived from the rest for the indexes only (never read back into a `Report`):

- `open_cells`, only while the report is open: its grid cell (`domain.cells`), alone and with
  its category. The nearby and duplicate lookups ask for a few cells' keys, so what they read is
  bounded by the open reports of those cells, however many reports are stored.
- `upkeep_at`, the time the housekeeping loop goes by: the last announcement of a `received`
  report (the reconciler), the resolution of a `resolved` one (auto-close); absent otherwise.
"""

from __future__ import annotations

from dataclasses import fields
from datetime import datetime
from typing import Any

from services.intake.domain.cells import cell_of
from services.intake.domain.report import Photo, Rating, Report, TimelineEntry
from shared.events import OPEN_STATUSES, ReportCreatedV1, Status, TriageV1
from shared.mongo import Document

# Fields a listing needs: never the token hash, the sealed contact or the timeline.
LIST_FIELDS = {
    "token_hash": 0,
    "created_payload": 0,
    "timeline": 0,
    "seq": 0,
    "assign_seq": 0,
    "sequence": 0,
    "open_cells": 0,
    "upkeep_at": 0,
    "location": 0,  # written by earlier versions
}
# What a nearby listing shows (`NearbyReport`) and its lookup filters on: the lookup reads every
# open report of a few cells, so it fetches only these (the embedded database copies whatever a
# projection leaves in; the rest of such a `Report` holds its defaults).
NEARBY_FIELDS = {
    "category": 1,
    "description": 1,
    "lat": 1,
    "lon": 1,
    "status": 1,
    "created_at": 1,
    "supporters": 1,
}
# What `derived` needs of a stored document (the catch-up reads only these).
DERIVED_FROM = ("status", "category", "lat", "lon", "announced_at", "resolved_at")
DERIVED = ("open_cells", "upkeep_at")

_COUNTERS = ("supporters", "reopen_count")
_MAPS = ("seq", "assign_seq")
_FIELD_NAMES = {"id": "_id", "announcement": "created_payload"}


def to_document(report: Report) -> Document:
    doc = {
        _FIELD_NAMES.get(f.name, f.name): _value(getattr(report, f.name)) for f in fields(report)
    }
    doc.update({k: v for k, v in _derived_of(report).items() if v is not None})
    return doc


def cell_key(cell: str, category: str | None = None) -> str:
    """An `open_cells` key: the cell alone, or with a category (a cell key has no `@`)."""
    return f"{category}@{cell}" if category else cell


def derived(
    status: str,
    category: str,
    lat: float,
    lon: float,
    announced_at: datetime | None,
    resolved_at: datetime | None,
) -> dict[str, Any]:
    """The index-only fields of a report in this state (None: the field is absent)."""
    cells = None
    if Status(status) in OPEN_STATUSES:
        here = cell_of(lat, lon).key
        cells = [cell_key(here), cell_key(here, category)]
    upkeep = {Status.RECEIVED: announced_at, Status.RESOLVED: resolved_at}.get(Status(status))
    return {"open_cells": cells, "upkeep_at": upkeep}


def derived_of_document(doc: Document) -> dict[str, Any]:
    return derived(
        doc["status"],
        doc["category"],
        doc["lat"],
        doc["lon"],
        doc.get("announced_at") or doc.get("created_at"),
        doc.get("resolved_at"),
    )


def _derived_of(report: Report) -> dict[str, Any]:
    return derived(
        report.status,
        report.category,
        report.lat,
        report.lon,
        report.announced_at,
        report.resolved_at,
    )


def derived_update(stored: Document, want: dict[str, Any]) -> dict[str, Any]:
    """The update that brings a stored document's index-only fields to `want` (may be empty)."""
    sets = {k: v for k, v in want.items() if v is not None and stored.get(k) != v}
    unset = {k: "" for k, v in want.items() if v is None and k in stored}
    return {**({"$set": sets} if sets else {}), **({"$unset": unset} if unset else {})}


def update_of(before: Report, after: Report) -> dict[str, Any]:
    """The update that takes the stored `before` to `after` (empty if nothing changed)."""
    sets: dict[str, Any] = {}
    inc: dict[str, int] = {}
    for f in fields(Report):
        old, new = getattr(before, f.name), getattr(after, f.name)
        if f.name == "timeline" or old == new:
            continue
        if f.name in _COUNTERS:
            inc[f.name] = new - old
        elif f.name in _MAPS:
            sets.update({f"{f.name}.{k}": v for k, v in new.items() if old.get(k) != v})
        else:
            sets[_FIELD_NAMES.get(f.name, f.name)] = _value(new)
    unset: dict[str, str] = {}
    old_derived, new_derived = _derived_of(before), _derived_of(after)
    for name, value in new_derived.items():
        if value == old_derived[name]:
            continue
        if value is None:
            unset[name] = ""
        else:
            sets[name] = value
    update: dict[str, Any] = {}
    if sets:
        update["$set"] = sets
    if unset:
        update["$unset"] = unset
    if inc:
        update["$inc"] = inc
    added = after.timeline[len(before.timeline) :]
    if added:
        update["$push"] = {"timeline": {"$each": [_entry_doc(e) for e in added]}}
    return update


def from_document(doc: Document) -> Report:
    payload = doc.get("created_payload")
    rating = doc.get("rating")
    return Report(
        id=doc["_id"],
        category=doc["category"],
        category_name=doc.get("category_name") or {},
        description=doc["description"],
        address=doc.get("address"),
        lat=doc["lat"],
        lon=doc["lon"],
        language=doc.get("language", "vi"),
        channel=doc.get("channel", "api"),
        status=Status(doc["status"]),
        status_at=doc.get("status_at") or doc["created_at"],
        created_at=doc["created_at"],
        updated_at=doc.get("updated_at") or doc["created_at"],
        announced_at=doc.get("announced_at") or doc["created_at"],
        attributes=doc.get("attributes") or {},
        media_url=doc.get("media_url"),
        status_notes=doc.get("status_notes"),
        agency_id=doc.get("agency_id"),
        agency_name=doc.get("agency_name"),
        expected_at=doc.get("expected_at"),
        overdue=bool(doc.get("overdue")),
        resolved_at=doc.get("resolved_at"),
        photos=tuple(
            Photo(p["id"], p["content_type"], int(p.get("width", 0)), int(p.get("height", 0)))
            for p in doc.get("photos") or []
        ),
        supporters=int(doc.get("supporters", 0)),
        reopen_count=int(doc.get("reopen_count", 0)),
        rating=Rating(rating["rating"], rating.get("comment"), rating["at"]) if rating else None,
        token_hash=doc.get("token_hash") or "",
        announcement=ReportCreatedV1.model_validate(payload) if payload else None,
        seq=doc.get("seq") or {},
        assign_seq=doc.get("assign_seq") or {},
        sequence=doc.get("sequence"),
        timeline=tuple(entry_of(e) for e in doc.get("timeline") or []),
        triage=TriageV1.model_validate(doc["triage"]) if doc.get("triage") else None,
        category_at=doc.get("category_at"),
    )


def entry_of(doc: Document) -> TimelineEntry:
    return TimelineEntry(
        event_id=str(doc.get("event_id") or ""),
        type=str(doc["type"]),
        status=doc.get("status"),
        at=doc["at"],
        agency_id=doc.get("agency_id"),
        agency_name=doc.get("agency_name"),
        note=doc.get("note"),
        media_url=doc.get("media_url"),
        recorded_at=doc.get("recorded_at"),
    )


def _entry_doc(entry: TimelineEntry) -> Document:
    return {f.name: getattr(entry, f.name) for f in fields(entry)}


def _value(value: Any) -> Any:
    """A field's stored form."""
    if isinstance(value, Status):
        return value.value
    if isinstance(value, ReportCreatedV1 | TriageV1):
        return value.model_dump(mode="json")
    if isinstance(value, Photo):
        return {
            "id": value.id,
            "content_type": value.content_type,
            "width": value.width,
            "height": value.height,
        }
    if isinstance(value, Rating):
        return {"rating": value.rating, "comment": value.comment, "at": value.at}
    if isinstance(value, TimelineEntry):
        return _entry_doc(value)
    if isinstance(value, tuple):
        return [_value(v) for v in value]
    if isinstance(value, dict) or hasattr(value, "items"):
        return dict(value)
    return value
