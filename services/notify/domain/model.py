"""What notify knows about a report, what an incoming event means for it, and its deliveries."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from shared.events import Status


class RecipientKind(StrEnum):
    RESIDENT = "resident"
    AGENCY = "agency"
    OPERATOR = "operator"


class Channel(StrEnum):
    LOG = "log"
    EMAIL = "email"
    WEBHOOK = "webhook"
    SMS = "sms"


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"  # waiting for its next attempt
    DEAD = "dead"  # gave up after the last attempt (or a permanent refusal)
    SKIPPED = "skipped"  # channel disabled, or the address unsubscribed


RETRYABLE = (DeliveryStatus.PENDING, DeliveryStatus.FAILED)


@dataclass(frozen=True)
class Incoming:
    """One report event, reduced to what notify needs (no personal data)."""

    event_id: str
    type: str
    report_id: str
    source: str
    sequence: int
    time: datetime
    agency_id: str | None = None
    assignment_id: str | None = None
    attempt: int | None = None
    details: dict[str, Any] = field(default_factory=dict)


@dataclass
class ReportView:
    """Notify's own view of one report: enough to route notifications and stream status."""

    report_id: str
    status: Status | None = None
    agency_id: str | None = None
    category: str | None = None
    language: str = "vi"
    contact_known: bool = False  # report.created seen (contact or not)
    contact_sealed: str | None = None  # as intake sealed it (aad = report id); never opened at rest
    sequences: dict[str, int] = field(default_factory=dict)  # highest applied, per source
    stream_n: int = 0  # last status-change number of the report's stream
    awaiting_contact: list[Incoming] = field(default_factory=list)  # news before report.created
    stored: bool = False  # read from storage (False: a report notify had not heard of)


@dataclass(frozen=True)
class StatusChange:
    n: int
    status: Status
    agency_id: str | None
    time: datetime
    event_id: str


@dataclass(frozen=True)
class AgencyContact:
    id: str
    name: dict[str, str]
    contacts: dict[str, str]


@dataclass(frozen=True)
class Audience:
    """Someone to tell about one event: who, in which language, through which addresses."""

    kind: RecipientKind
    recipient_id: str  # "resident" or the agency id
    language: str
    addresses: dict[Channel, str]  # real channels only; the log channel needs none


@dataclass(frozen=True)
class News:
    """One piece of news for one audience: the event, its dedupe key, template and context."""

    event_id: str
    event_type: str
    dedupe_key: str
    report_id: str
    template: str
    context: dict[str, Any]  # what the template may show: never personal data


@dataclass(frozen=True)
class Delivery:
    """One news to one recipient on one channel; `address_sealed` is sealed with aad = `id`."""

    id: str
    news: News
    recipient_kind: RecipientKind
    recipient_id: str
    recipient: str  # masked address, or a label for the log channel
    channel: Channel
    address_sealed: str | None
    address_key: str | None  # set when the address can unsubscribe
    language: str
    status: DeliveryStatus
    last_error: str | None
    attempts: int
    next_attempt_at: datetime | None
    created_at: datetime
    sent_at: datetime | None
    no_contact: bool = False  # a staff log entry with nobody to reach (a catalogue may help)


@dataclass(frozen=True)
class Outcome:
    """What one attempt (or a skip) leaves on a delivery."""

    status: DeliveryStatus
    attempts: int
    last_error: str | None
    next_attempt_at: datetime | None = None  # only when another attempt is scheduled
    sent_at: datetime | None = None


@dataclass(frozen=True)
class Lease:
    """A worker's hold on deliveries: no other worker takes them before `until`."""

    owner: str
    until: datetime


@dataclass(frozen=True)
class Claimed:
    """Deliveries one worker round took (leased under `token`), and when the next one queued
    after them falls due (None: none within the look-ahead)."""

    token: str
    deliveries: list[Delivery]
    next_due: datetime | None = None
    handed: bool = False  # handed over by the batch that recorded them (no claim, no re-read)


@dataclass(frozen=True)
class DeliveryFilter:
    """The delivery log's filters; None matches everything."""

    report_id: str | None = None
    channel: Channel | None = None
    status: DeliveryStatus | None = None
    recipient_kind: RecipientKind | None = None
