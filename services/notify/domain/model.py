"""What notify knows about a report and what an incoming event means for it."""

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
    sequences: dict[str, int] = field(default_factory=dict)  # highest applied, per source
    stream_n: int = 0  # last status-change number of the report's stream


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
