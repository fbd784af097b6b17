"""A report: the draft a resident files, the report intake keeps, and the resident's own changes
to it. Plain dataclasses; the store maps them to documents."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from shared.events import GeoPoint, ReportCreatedV1, Status, Topic, TriageV1

# The one place of these limits: the resident API's schema and the Open311 form both read them.
DESCRIPTION_MAX = 4000
ADDRESS_MAX = 300


@dataclass(frozen=True)
class Contact:
    name: str | None = None
    email: str | None = None
    phone: str | None = None

    def sealable(self, language: str) -> dict[str, Any]:
        return {"name": self.name, "email": self.email, "phone": self.phone, "language": language}


@dataclass(frozen=True)
class ReportDraft:
    category: str | None  # None: the resident left it to the category suggestion
    lat: float
    lon: float
    description: str
    address: str | None = None
    language: str = "vi"
    contact: Contact | None = None
    attributes: dict[str, Any] = field(default_factory=dict)
    media_url: str | None = None

    @property
    def code(self) -> str:
        """The category, once chosen."""
        if self.category is None:
            raise ValueError("the draft has no category yet")
        return self.category

    def fingerprint_body(self, photo_digests: list[str]) -> dict[str, Any]:
        """What makes two creates "the same request" for idempotency."""
        return {
            "category": self.category,
            "lat": self.lat,
            "lon": self.lon,
            "description": self.description,
            "address": self.address,
            "language": self.language,
            "contact": self.contact.sealable(self.language) if self.contact else None,
            "attributes": self.attributes,
            "media_url": self.media_url,
            "photos": photo_digests,
        }


@dataclass(frozen=True)
class Photo:
    """A stored photo (its thumbnail is the file `<id>-thumb`)."""

    id: str
    content_type: str
    width: int
    height: int

    @property
    def file_ids(self) -> tuple[str, str]:
        return self.id, f"{self.id}-thumb"


@dataclass(frozen=True)
class Rating:
    rating: int
    comment: str | None
    at: datetime


@dataclass(frozen=True)
class TimelineEntry:
    """One event in a report's history. `recorded_at` is when intake stored it (None on entries
    from before it was kept: their event time stands in)."""

    event_id: str
    type: str
    status: str | None
    at: datetime
    agency_id: str | None = None
    agency_name: str | None = None
    note: str | None = None
    media_url: str | None = None
    recorded_at: datetime | None = None


@dataclass(frozen=True)
class Report:
    """A report as intake keeps it. A listing reads it without its private parts (token hash,
    announcement, sequences, timeline): those then hold their defaults."""

    id: str
    category: str
    category_name: Mapping[str, str]
    description: str
    address: str | None
    lat: float
    lon: float
    language: str
    channel: str
    status: Status
    status_at: datetime
    created_at: datetime
    updated_at: datetime
    announced_at: datetime
    attributes: Mapping[str, Any] = field(default_factory=dict)
    media_url: str | None = None
    status_notes: str | None = None
    agency_id: str | None = None
    agency_name: str | None = None
    expected_at: datetime | None = None
    overdue: bool = False
    resolved_at: datetime | None = None
    photos: tuple[Photo, ...] = ()
    supporters: int = 0
    reopen_count: int = 0
    rating: Rating | None = None
    token_hash: str = ""
    # The payload of report.created (contact sealed for notify), re-announced as is.
    announcement: ReportCreatedV1 | None = None
    # The newest applied sequence per producing source: of a status, of an assignment.
    seq: Mapping[str, int] = field(default_factory=dict)
    # The sequence of the newest event intake emitted for this report (report.created is 1).
    # None for a report stored before it was kept here: its next event continues the shared
    # per-report counter once, and the report keeps its own from then on.
    sequence: int | None = None
    assign_seq: Mapping[str, int] = field(default_factory=dict)
    timeline: tuple[TimelineEntry, ...] = ()
    # What the category model said when it was filed (issue 14), and when an operator last
    # changed the category (the newest correction wins; None: never changed).
    triage: TriageV1 | None = None
    category_at: datetime | None = None

    def recorded(self, *entries: TimelineEntry) -> Report:
        return replace(self, timeline=(*self.timeline, *entries))

    def rated(self, rating: Rating, rated_event: str, closed_event: str) -> Report:
        """Rated by the resident, hence closed (both events land in the timeline)."""
        at = rating.at
        return replace(
            self, status=Status.CLOSED, status_at=at, updated_at=at, rating=rating
        ).recorded(
            own_entry(rated_event, Topic.REPORT_RATED, None, at, f"rating {rating.rating}/5"),
            own_entry(closed_event, Topic.REPORT_CLOSED, Status.CLOSED, at, "rated"),
        )

    def reopened(self, reason: str, at: datetime, event_id: str) -> Report:
        """Back to `received`: announced again, no longer resolved nor overdue."""
        return replace(
            self,
            status=Status.RECEIVED,
            status_at=at,
            updated_at=at,
            announced_at=at,
            resolved_at=None,
            overdue=False,
            reopen_count=self.reopen_count + 1,
        ).recorded(own_entry(event_id, Topic.REPORT_REOPENED, Status.RECEIVED, at, reason))

    def supported(self, at: datetime) -> Report:
        return replace(self, supporters=self.supporters + 1, updated_at=at)

    def autoclosed(self, at: datetime, event_id: str) -> Report:
        """Resolved long ago and never rated: closed."""
        return replace(self, status=Status.CLOSED, status_at=at, updated_at=at).recorded(
            own_entry(event_id, Topic.REPORT_CLOSED, Status.CLOSED, at, "auto")
        )

    def reannounced(self, at: datetime) -> Report:
        return replace(self, announced_at=at)

    @property
    def next_sequence(self) -> int | None:
        """The sequence of this report's next own event (None: ask the shared counter)."""
        return None if self.sequence is None else self.sequence + 1

    def emitted(self, sequence: int) -> Report:
        return replace(self, sequence=sequence)


@dataclass(frozen=True)
class Nearby:
    report: Report
    distance_m: float


def own_entry(
    event_id: str, type_: str, status: Status | None, at: datetime, note: str | None
) -> TimelineEntry:
    """A timeline entry of intake's own making (its note may be the resident's words)."""
    return TimelineEntry(
        event_id=event_id,
        type=type_,
        status=status.value if status else None,
        at=at,
        note=note,
        recorded_at=at,
    )


def created_payload(
    report_id: str,
    draft: ReportDraft,
    *,
    created_at: datetime,
    channel: str,
    photo_urls: list[str],
    contact_sealed: str | None,
    triage: TriageV1 | None = None,
) -> ReportCreatedV1:
    return ReportCreatedV1(
        report_id=report_id,
        category=draft.code,
        location=GeoPoint(lat=draft.lat, lon=draft.lon),
        address=draft.address,
        description=draft.description,
        language=draft.language,
        photo_urls=photo_urls,
        attributes=draft.attributes,
        created_at=created_at,
        channel=channel,
        contact_sealed=contact_sealed,
        triage=triage,
    )


def new_report(
    report_id: str,
    draft: ReportDraft,
    *,
    category_name: Mapping[str, str],
    token_hash: str,
    photos: tuple[Photo, ...],
    announcement: ReportCreatedV1,
) -> Report:
    """A report just filed: `received`, announced now (by `announcement`)."""
    at = announcement.created_at
    return Report(
        id=report_id,
        category=draft.code,
        category_name=dict(category_name),
        description=draft.description,
        address=draft.address,
        lat=draft.lat,
        lon=draft.lon,
        language=draft.language,
        channel=announcement.channel,
        status=Status.RECEIVED,
        status_at=at,
        created_at=at,
        updated_at=at,
        announced_at=at,
        attributes=draft.attributes,
        media_url=draft.media_url,
        photos=photos,
        token_hash=token_hash,
        announcement=announcement,
        sequence=1,  # report.created
        triage=announcement.triage,
    )
