"""The event contract: topic names, the CloudEvents 1.0 envelope and versioned payloads.

Payloads are versioned by the `type` suffix's schema (`dataschema`); within a version only
additive changes are allowed. Personal data never appears here in plain text.
"""

from __future__ import annotations

import builtins
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Literal, TypeVar

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from shared.catalog import CatalogV1

M = TypeVar("M", bound=BaseModel)


class Topic(StrEnum):
    REPORT_CREATED = "report.created"
    REPORT_ASSIGNED = "report.assigned"
    REPORT_ACCEPTED = "report.accepted"
    REPORT_IN_PROGRESS = "report.in_progress"
    REPORT_RESOLVED = "report.resolved"
    REPORT_CLOSED = "report.closed"
    REPORT_REJECTED = "report.rejected"
    REPORT_DUPLICATE = "report.duplicate"
    REPORT_ESCALATED = "report.escalated"
    REPORT_RATED = "report.rated"
    REPORT_REOPENED = "report.reopened"
    REPORT_SUPPORTED = "report.supported"
    REPORT_RECATEGORIZED = "report.recategorized"
    JURISDICTION_CATALOG = "jurisdiction.catalog"
    ACCOUNT_CHANGED = "auth.account_changed"


REPORT_TOPICS: tuple[Topic, ...] = tuple(t for t in Topic if t.value.startswith("report."))


def dlq(topic: str) -> str:
    return f"{topic}.dlq"


class Status(StrEnum):
    RECEIVED = "received"
    ASSIGNED = "assigned"
    IN_PROGRESS = "in_progress"
    RESOLVED = "resolved"
    CLOSED = "closed"
    DUPLICATE = "duplicate"
    REJECTED = "rejected"

    @property
    def open311(self) -> Literal["open", "closed"]:
        return "open" if self in OPEN_STATUSES else "closed"


# Still waiting for the city: Open311's `open`, a resident's "not done yet", an agency's backlog.
OPEN_STATUSES: frozenset[Status] = frozenset({Status.RECEIVED, Status.ASSIGNED, Status.IN_PROGRESS})

# The public status each event sets; events not listed (escalated, rated, supported) set none.
STATUS_SET_BY: dict[str, Status] = {
    Topic.REPORT_CREATED: Status.RECEIVED,
    Topic.REPORT_ASSIGNED: Status.ASSIGNED,
    Topic.REPORT_ACCEPTED: Status.ASSIGNED,
    Topic.REPORT_IN_PROGRESS: Status.IN_PROGRESS,
    Topic.REPORT_RESOLVED: Status.RESOLVED,
    Topic.REPORT_CLOSED: Status.CLOSED,
    Topic.REPORT_REJECTED: Status.REJECTED,
    Topic.REPORT_DUPLICATE: Status.DUPLICATE,
    Topic.REPORT_REOPENED: Status.RECEIVED,
}


def utcnow() -> datetime:
    return datetime.now(UTC)


class CloudEvent(BaseModel):
    """CloudEvents 1.0, structured JSON mode, with the `sequence` and `traceparent` extensions."""

    model_config = ConfigDict(frozen=True)

    specversion: Literal["1.0"] = "1.0"
    id: str = Field(
        default_factory=lambda: str(uuid.uuid4()), description="Made once, in the outbox"
    )
    source: str = Field(description="Producing service, e.g. `/fieldreports/intake`")
    type: str = Field(description="Event type, equal to its topic name, e.g. `report.created`")
    subject: str = Field(description="Report id (also the Kafka key)")
    time: AwareDatetime = Field(default_factory=utcnow)
    datacontenttype: Literal["application/json"] = "application/json"
    dataschema: str | None = Field(
        default=None, description="Payload schema id, e.g. `report.created/v1`"
    )
    sequence: int = Field(ge=1, description="Increasing per report within the producing service")
    traceparent: str | None = Field(default=None, description="W3C trace context")
    data: dict[str, Any]

    def payload(self, model: builtins.type[M]) -> M:
        return model.model_validate(self.data)


# ---------------------------------------------------------------- payloads (v1)


class GeoPoint(BaseModel):
    lat: float = Field(ge=-90, le=90, description="Latitude, WGS84")
    lon: float = Field(ge=-180, le=180, description="Longitude, WGS84")


class SuggestionV1(BaseModel):
    category: str
    confidence: float = Field(ge=0, le=1)


class TriageV1(BaseModel):
    """What the category model said about a report when it was filed (issue 14)."""

    model_version: str = Field(description="The promoted model that scored the description")
    suggestions: list[SuggestionV1] = Field(description="Most likely first (at most three)")
    chosen_by: Literal["resident", "model"] = Field(
        description="`model`: the resident gave no category and the suggestion was confident"
    )
    disputed: bool = Field(
        default=False,
        description="The model strongly disputes the resident's category: triage by hand",
    )


class ReportCreatedV1(BaseModel):
    """A resident filed a report (or the reconciler re-published one still `received`)."""

    report_id: str
    category: str = Field(description="Category (Open311 service) code")
    location: GeoPoint
    address: str | None = None
    description: str
    language: str = Field(default="vi", description="Resident's language for notifications")
    photo_urls: list[str] = Field(default_factory=list)
    attributes: dict[str, Any] = Field(default_factory=dict, description="Category attributes")
    created_at: AwareDatetime
    channel: str = Field(default="api", description="api, open311, web, mobile ...")
    contact_sealed: str | None = Field(
        default=None, description="Reporter contact, AES-GCM sealed for notify; never plain"
    )
    triage: TriageV1 | None = Field(default=None, description="The category model's opinion")


class ReportAssignedV1(BaseModel):
    report_id: str
    assignment_id: str
    agency_id: str
    agency_name: str
    category: str
    due_at: AwareDatetime
    attempt: int = Field(ge=1, description="1 for the first routing, +1 per re-route or transfer")
    rule_id: str | None = Field(
        default=None, description="Rule that chose the agency; null if manual"
    )
    area_id: str | None = None
    reason: str = Field(default="rule", description="rule, fallback, reroute, transfer, manual")
    assigned_at: AwareDatetime


class ReportAcceptedV1(BaseModel):
    """Staff started work: public status `in_progress`."""

    report_id: str
    assignment_id: str
    agency_id: str
    note: str | None = None
    at: AwareDatetime


class ReportResolvedV1(BaseModel):
    report_id: str
    assignment_id: str
    agency_id: str
    note: str
    photo_urls: list[str] = Field(default_factory=list)
    resolved_at: AwareDatetime
    on_time: bool | None = None


class ReportClosedV1(BaseModel):
    report_id: str
    reason: str = "rated"
    at: AwareDatetime


class ReportRejectedV1(BaseModel):
    """Rejected as spam or not a public matter (by an operator): public status `rejected`."""

    report_id: str
    reason: str
    by: str = Field(description="operator or agency id, never a person's identity")
    at: AwareDatetime


class ReportDuplicateV1(BaseModel):
    report_id: str
    duplicate_of: str
    at: AwareDatetime


class ReportEscalatedV1(BaseModel):
    report_id: str
    assignment_id: str
    agency_id: str
    due_at: AwareDatetime
    at: AwareDatetime
    level: int = 1


class ReportRatedV1(BaseModel):
    report_id: str
    rating: int = Field(ge=1, le=5)
    comment: str | None = None
    at: AwareDatetime


class ReportReopenedV1(BaseModel):
    report_id: str
    reason: str
    at: AwareDatetime
    category: str | None = None
    location: GeoPoint | None = None


class ReportSupportedV1(BaseModel):
    report_id: str
    supporters: int = Field(ge=1)
    at: AwareDatetime


class ReportRecategorizedV1(BaseModel):
    """An IOC operator changed the report's category (a correction the category model learns from).
    Routing re-routes it: a `report.assigned` with reason `reroute` follows in the same commit."""

    report_id: str
    previous_category: str
    category: str
    by: str = Field(description="operator or agency id, never a person's identity")
    reason: str | None = None
    at: AwareDatetime


PAYLOADS: dict[str, type[BaseModel]] = {
    Topic.REPORT_CREATED: ReportCreatedV1,
    Topic.REPORT_ASSIGNED: ReportAssignedV1,
    Topic.REPORT_ACCEPTED: ReportAcceptedV1,
    Topic.REPORT_IN_PROGRESS: ReportAcceptedV1,
    Topic.REPORT_RESOLVED: ReportResolvedV1,
    Topic.REPORT_CLOSED: ReportClosedV1,
    Topic.REPORT_REJECTED: ReportRejectedV1,
    Topic.REPORT_DUPLICATE: ReportDuplicateV1,
    Topic.REPORT_ESCALATED: ReportEscalatedV1,
    Topic.REPORT_RATED: ReportRatedV1,
    Topic.REPORT_REOPENED: ReportReopenedV1,
    Topic.REPORT_SUPPORTED: ReportSupportedV1,
    Topic.REPORT_RECATEGORIZED: ReportRecategorizedV1,
}


PAYLOADS[Topic.JURISDICTION_CATALOG] = CatalogV1


class AccountChangedV1(BaseModel):
    """A staff login changed (created, replaced, deleted): its tokens issued before are refused.

    Keyed by username on a compacted topic (the latest change of each login is kept); the
    sequence is the token version. Carries no scopes, agency or password, only the version."""

    username: str = Field(description="The login (also the Kafka key and the event subject)")
    token_version: int = Field(ge=1, description="Tokens with a lower `ver` claim are refused")
    changed_at: AwareDatetime


PAYLOADS[Topic.ACCOUNT_CHANGED] = AccountChangedV1

# Compacted topics: only the latest event of each key is kept, for ever (a consumer that starts
# late replays them all).
COMPACTED_TOPICS: tuple[Topic, ...] = (Topic.JURISDICTION_CATALOG, Topic.ACCOUNT_CHANGED)


def first_created(events: Iterable[tuple[str, str]]) -> set[str]:
    """The reports whose first event among these `(report id, topic)` pairs is
    `report.created` (in a new batch, reports no service has heard of yet)."""
    first: dict[str, str] = {}
    for report_id, topic in events:
        first.setdefault(report_id, topic)
    return {r for r, t in first.items() if t == Topic.REPORT_CREATED}
