"""How lifecycle events from other services change the public view of a report.

Across topics there is no order and any event may come twice, so every state change is guarded
by the producer's per-report `sequence`, kept per source: an event older than the newest applied
one from the same source changes nothing (it is still kept in the timeline as history).
Assignment data (agency, due time) has its own guard, so a late `report.assigned` still fills in
the agency even when a newer status (say `resolved`) already arrived.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from shared.events import (
    REPORT_TOPICS,
    STATUS_SET_BY,
    CloudEvent,
    ReportAcceptedV1,
    ReportAssignedV1,
    ReportClosedV1,
    ReportDuplicateV1,
    ReportEscalatedV1,
    ReportRecategorizedV1,
    ReportRejectedV1,
    ReportReopenedV1,
    ReportResolvedV1,
    Status,
    Topic,
)

from .report import Report, TimelineEntry

# Intake's own topics; the other report topics are routing's lifecycle, which intake consumes.
PRODUCED: tuple[Topic, ...] = (
    Topic.REPORT_CREATED,
    Topic.REPORT_RATED,
    Topic.REPORT_CLOSED,
    Topic.REPORT_REOPENED,
    Topic.REPORT_SUPPORTED,
)
CONSUMED: tuple[Topic, ...] = tuple(t for t in REPORT_TOPICS if t not in PRODUCED)


@dataclass(frozen=True)
class Fact:
    """A lifecycle event reduced to what the public view needs."""

    event_id: str
    report_id: str
    type: str
    source: str
    sequence: int
    at: datetime
    status: Status | None
    agency_id: str | None = None
    agency_name: str | None = None
    due_at: datetime | None = None
    note: str | None = None
    escalated: bool = False
    photo_urls: tuple[str, ...] = ()
    # report.recategorized: the operator's category (its names from the catalogue copy)
    category: str | None = None
    category_name: Mapping[str, str] | None = None


def source_key(source: str) -> str:
    """A MongoDB-safe field name for a CloudEvents source."""
    return source.strip("/").replace("/", "_").replace(".", "_") or "unknown"


def fact_from_event(event: CloudEvent) -> Fact:
    base: dict[str, Any] = {
        "event_id": event.id,
        "report_id": event.subject,
        "type": event.type,
        "source": event.source,
        "sequence": event.sequence,
        "status": STATUS_SET_BY.get(event.type),
    }
    t = event.type
    if t == Topic.REPORT_ASSIGNED:
        a = event.payload(ReportAssignedV1)
        return Fact(
            **base,
            at=a.assigned_at,
            agency_id=a.agency_id,
            agency_name=a.agency_name,
            due_at=a.due_at,
        )
    if t in (Topic.REPORT_ACCEPTED, Topic.REPORT_IN_PROGRESS):
        c = event.payload(ReportAcceptedV1)
        return Fact(**base, at=c.at, agency_id=c.agency_id, note=c.note)
    if t == Topic.REPORT_RESOLVED:
        r = event.payload(ReportResolvedV1)
        return Fact(
            **base,
            at=r.resolved_at,
            agency_id=r.agency_id,
            note=r.note,
            photo_urls=tuple(r.photo_urls),
        )
    if t == Topic.REPORT_REJECTED:
        j = event.payload(ReportRejectedV1)
        return Fact(**base, at=j.at, note=j.reason)
    if t == Topic.REPORT_DUPLICATE:
        d = event.payload(ReportDuplicateV1)
        return Fact(**base, at=d.at, note=f"duplicate of {d.duplicate_of}")
    if t == Topic.REPORT_ESCALATED:
        e = event.payload(ReportEscalatedV1)
        return Fact(**base, at=e.at, agency_id=e.agency_id, due_at=e.due_at, escalated=True)
    if t == Topic.REPORT_CLOSED:
        cl = event.payload(ReportClosedV1)
        return Fact(**base, at=cl.at, note=cl.reason)
    if t == Topic.REPORT_RECATEGORIZED:
        rc = event.payload(ReportRecategorizedV1)
        note = f"{rc.previous_category} -> {rc.category}"
        return Fact(**base, at=rc.at, category=rc.category, note=note)
    if t == Topic.REPORT_REOPENED:
        ro = event.payload(ReportReopenedV1)
        return Fact(**base, at=ro.at, note=ro.reason)
    return Fact(**base, at=event.time)


def timeline_entry(fact: Fact, *, applied: bool, recorded_at: datetime) -> TimelineEntry:
    """`recorded_at` is when intake stored the entry (the Open311 updates window reads it, so
    an event that reaches intake late is still offered to a client polling recent updates)."""
    return TimelineEntry(
        event_id=fact.event_id,
        type=fact.type,
        status=fact.status.value if fact.status and applied else None,
        at=fact.at,
        agency_id=fact.agency_id,
        agency_name=fact.agency_name,
        note=fact.note,
        media_url=fact.photo_urls[0] if fact.photo_urls else None,
        recorded_at=recorded_at,
    )


def project(report: Report, fact: Fact, now: datetime) -> tuple[Report, bool]:
    """The report as this fact leaves it, and whether its status applied."""
    src = source_key(fact.source)
    changes: dict[str, Any] = {}
    applied = fact.status is not None and fact.sequence > report.seq.get(src, 0)
    if applied and fact.status is not None:
        changes["seq"] = {**report.seq, src: fact.sequence}
        changes["status"] = fact.status
        changes["status_at"] = fact.at
        if fact.note:
            changes["status_notes"] = fact.note
        if fact.status == Status.RESOLVED:
            changes["resolved_at"] = fact.at
    if (fact.agency_name or fact.escalated) and fact.sequence > report.assign_seq.get(src, 0):
        changes["assign_seq"] = {**report.assign_seq, src: fact.sequence}
        if fact.agency_name:  # a (re)assignment: new agency, new due time, not overdue yet
            changes["agency_id"] = fact.agency_id
            changes["agency_name"] = fact.agency_name
            changes["expected_at"] = fact.due_at
            changes["overdue"] = False
        else:
            changes["overdue"] = True
    if fact.category and (report.category_at is None or fact.at > report.category_at):
        # an operator's correction: the newest one wins, whatever the order they arrive in
        changes["category"] = fact.category
        changes["category_at"] = fact.at
        if fact.category_name:
            changes["category_name"] = dict(fact.category_name)
    if changes:
        changes["updated_at"] = max(now, report.updated_at)
    return replace(report, **changes), applied


def apply(report: Report, fact: Fact, now: datetime) -> Report:
    """The projection of the fact, with the fact in the timeline whether it applied or not."""
    projected, applied = project(report, fact, now)
    return projected.recorded(timeline_entry(fact, applied=applied, recorded_at=now))
