"""Who hears what, and how a report's public status moves. Pure functions."""

from __future__ import annotations

from dataclasses import replace

from services.notify.domain.model import (
    AgencyContact,
    Audience,
    Channel,
    Delivery,
    Incoming,
    RecipientKind,
    ReportView,
    StatusChange,
)
from shared.events import STATUS_SET_BY, Status, Topic
from shared.i18n import language_or_default

RESIDENT_EVENTS = frozenset(
    {
        Topic.REPORT_CREATED,
        Topic.REPORT_ASSIGNED,
        Topic.REPORT_IN_PROGRESS,
        Topic.REPORT_RESOLVED,
        Topic.REPORT_CLOSED,
        Topic.REPORT_REJECTED,
        Topic.REPORT_DUPLICATE,
    }
)
AGENCY_EVENTS = frozenset({Topic.REPORT_ASSIGNED, Topic.REPORT_ESCALATED, Topic.REPORT_REOPENED})

# Who to tell about which news (the news is an event, or one that waited for the contact).
Plan = list[tuple[Incoming, Audience]]


def is_stale(view: ReportView, event: Incoming) -> bool:
    """An older (or the same) state change of one producer than one already applied."""
    return event.sequence <= view.sequences.get(event.source, 0)


def apply(view: ReportView, event: Incoming) -> tuple[ReportView, StatusChange | None]:
    """The report's view after the event, and the status change to stream (if any).

    Stale events change nothing. `report.created` only sets `received` on a report notify has
    not seen move yet (across topics there is no order: `assigned` may arrive first).
    """
    if is_stale(view, event):
        return view, None
    seqs = {**view.sequences, event.source: event.sequence}
    view = replace(view, sequences=seqs)
    view = replace(view, category=event.details.get("category") or view.category)
    if event.type == Topic.REPORT_CREATED:
        view = replace(view, contact_known=True)
        if view.status is not None:
            return view, None
    status = STATUS_SET_BY.get(event.type)
    agency = event.agency_id or view.agency_id
    if status is None or (status == view.status and agency == view.agency_id):
        return replace(view, agency_id=agency), None
    n = view.stream_n + 1
    # A reopened report waits for routing again: no agency handles it until the next assignment.
    shown = None if status is Status.RECEIVED else agency
    change = StatusChange(n, status, shown, event.time, event.event_id)
    return replace(view, status=status, agency_id=agency, stream_n=n), change


def with_contact(
    view: ReportView, sealed: str | None, contact: dict[str, str] | None, declared: str | None
) -> ReportView:
    """The view once `report.created` brought the (sealed) contact: the resident's language is
    the contact's, else the one the report declared."""
    language = language_or_default((contact or {}).get("language") or declared)
    return replace(view, contact_sealed=sealed, language=language)


def who_hears(
    event: Incoming,
    view: ReportView,
    contact: dict[str, str] | None,
    agencies: dict[str, AgencyContact],
    ioc_agency_id: str,
) -> tuple[Plan, ReportView]:
    """Who to tell about a fresh (not stale) event, given the view after it.

    News for the resident that arrives before `report.created` waits on the view and is told
    once `report.created` brings the contact.
    """
    plan: Plan = []
    staff = staff_audience(event, view, agencies, ioc_agency_id)
    if staff is not None:
        plan.append((event, staff))
    if not tells_resident(event):
        return plan, view
    if not view.contact_known:
        return plan, replace(view, awaiting_contact=[*view.awaiting_contact, event])
    resident = resident_audience(contact, view.language)
    plan.append((event, resident))
    if event.type == Topic.REPORT_CREATED:
        plan.extend((waiting, resident) for waiting in view.awaiting_contact)
        view = replace(view, awaiting_contact=[])
    return plan, view


def dedupe_key(event: Incoming) -> str:
    """What makes two events the same news for a recipient.

    Normally the event id. Re-announcements carry new ids for old news: intake re-publishes
    `report.created` for a report still `received`, and routing answers it by re-emitting the
    current assignment; neither must reach anyone twice.
    """
    if event.type == Topic.REPORT_CREATED:
        return f"{event.report_id}:received"
    if event.type == Topic.REPORT_ASSIGNED and event.assignment_id:
        return f"{event.report_id}:assigned:{event.assignment_id}:{event.attempt}"
    return event.event_id


def template_name(kind: RecipientKind, event_type: str) -> str:
    """`resident/assigned`, `agency/escalated`, `operator/triage`."""
    name = event_type.removeprefix("report.")
    if event_type == Topic.REPORT_CREATED:
        name = "received"
    if kind is RecipientKind.OPERATOR and event_type == Topic.REPORT_ASSIGNED:
        name = "triage"
    return f"{kind.value}/{name}"


def resident_addresses(contact: dict[str, str] | None) -> dict[Channel, str]:
    contact = contact or {}
    out: dict[Channel, str] = {}
    if contact.get("email"):
        out[Channel.EMAIL] = contact["email"].strip()
    if contact.get("phone"):
        out[Channel.SMS] = contact["phone"].strip()
    return out


def agency_addresses(agency: AgencyContact | None) -> dict[Channel, str]:
    contacts = agency.contacts if agency else {}
    pairs = ((Channel.EMAIL, "email"), (Channel.WEBHOOK, "webhook_url"), (Channel.SMS, "sms"))
    return {ch: contacts[key].strip() for ch, key in pairs if contacts.get(key)}


def staff_audience(
    event: Incoming,
    view: ReportView,
    agencies: dict[str, AgencyContact],
    ioc_agency_id: str,
) -> Audience | None:
    """The agency handling the report (IOC operators when it sits in triage)."""
    if event.type not in AGENCY_EVENTS:
        return None
    agency_id = event.agency_id or view.agency_id
    if not agency_id:
        return None
    kind = RecipientKind.OPERATOR if agency_id == ioc_agency_id else RecipientKind.AGENCY
    # Agencies of this city work in Vietnamese.
    return Audience(kind, agency_id, "vi", agency_addresses(agencies.get(agency_id)))


def resident_audience(contact: dict[str, str] | None, language: str) -> Audience:
    """The resident, in the contact's language, else the report's."""
    lang = language_or_default((contact or {}).get("language") or language)
    return Audience(RecipientKind.RESIDENT, "resident", lang, resident_addresses(contact))


def tells_resident(event: Incoming) -> bool:
    return event.type in RESIDENT_EVENTS


def can_unsubscribe(kind: RecipientKind, channel: Channel) -> bool:
    """Every email carries an unsubscribe link; SMS to residents carry an opt-out link (an
    agency's SMS number is its duty line: it is changed in the catalogue, not opted out)."""
    return channel is Channel.EMAIL or (channel is Channel.SMS and kind is RecipientKind.RESIDENT)


def still_waits(entry: Delivery, latest: Delivery | None, view: ReportView) -> bool:
    """Whether an assignment an agency could not be told of is still news for it: the report's
    latest assignment, and the report still `assigned` to that agency."""
    return (
        latest is not None
        and latest.id == entry.id
        and view.status is Status.ASSIGNED
        and view.agency_id == entry.recipient_id
    )


def latest_assignment_entries(deliveries: list[Delivery]) -> dict[str, Delivery]:
    """Per report, the log entry of its latest assignment as told to its agency (or IOC)."""
    latest: dict[str, Delivery] = {}
    for d in deliveries:
        if (
            d.news.event_type != Topic.REPORT_ASSIGNED
            or d.channel is not Channel.LOG
            or d.recipient_kind is RecipientKind.RESIDENT
        ):
            continue
        held = latest.get(d.news.report_id)
        if held is None or (d.created_at, d.id) > (held.created_at, held.id):
            latest[d.news.report_id] = d
    return latest
