"""The deliveries one news makes: one per channel of its audience, each with its first state.

The log channel only records (sent at once); a disabled channel or an unsubscribed address
is recorded as skipped; every other delivery waits for the worker as pending.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from services.notify.domain.catalog import Directory, agency_name
from services.notify.domain.delivery import mask
from services.notify.domain.model import (
    AgencyContact,
    Audience,
    Channel,
    Delivery,
    DeliveryStatus,
    Incoming,
    News,
    RecipientKind,
    ReportView,
)
from services.notify.domain.rules import dedupe_key, template_name

RECORDED = "recorded"  # the log channel's outcome: the entry is the record

# Payload fields a template may show besides the names notify adds.
_SHOWN = {"note", "reason", "due_at", "duplicate_of", "level", "attempt"}

Seal = Callable[[str, str], str]  # (address, aad) -> sealed


@dataclass(frozen=True)
class Recipients:
    """How to reach an audience: its addresses' unsubscribe keys, which of them unsubscribed,
    and the channels switched off (channel -> why)."""

    keys: dict[Channel, str]
    blocked: set[str]
    disabled: dict[Channel, str]


def news_of(
    event: Incoming, audience: Audience, view: ReportView, directory: Directory, report_url: str
) -> News:
    """The news of `event` for `audience`, its context in the audience's language."""
    lang = audience.language
    agency_id = event.agency_id or view.agency_id
    agency = directory.agencies.get(agency_id or "")
    category = event.details.get("category") or view.category
    names = directory.categories.get(category or "", {})
    context: dict[str, Any] = {
        "report_id": event.report_id,
        "report_url": report_url,
        "event_type": event.type,
        "status": view.status.value if view.status else None,
        "time": event.time.isoformat(),
        "agency_id": agency_id,
        "agency_name": agency_name(agency, lang) or event.details.get("agency_name") or agency_id,
        "category": category,
        "category_name": names.get(lang) or category,
        **{k: v for k, v in event.details.items() if k in _SHOWN},
    }
    return News(
        event_id=event.event_id,
        event_type=event.type,
        dedupe_key=dedupe_key(event),
        report_id=event.report_id,
        template=template_name(audience.kind, event.type),
        context=context,
    )


def renamed(news: News, agency: AgencyContact | None, directory: Directory, lang: str) -> News:
    """Stored news with the agency's and category's names from a newer catalogue."""
    context = news.context
    names = directory.categories.get(context.get("category") or "", {})
    context = {
        **context,
        "agency_name": agency_name(agency, lang) or context.get("agency_name"),
        "category_name": names.get(lang) or context.get("category_name"),
    }
    return replace(news, context=context)


def delivery_id(key: str, audience: Audience, channel: Channel) -> str:
    """The same news to the same recipient on the same channel always gets the same id."""
    raw = f"{key}|{audience.kind.value}|{audience.recipient_id}|{channel.value}"
    return hashlib.sha256(raw.encode()).hexdigest()[:32]


def label(audience: Audience) -> str:
    """How the log channel names a recipient: `resident`, `agency:roads`, `operator:ioc`."""
    if audience.kind is RecipientKind.RESIDENT:
        return "resident"
    return f"{audience.kind.value}:{audience.recipient_id}"


def first_status(channel: Channel, recipients: Recipients) -> tuple[DeliveryStatus, str | None]:
    """A new delivery's state and why."""
    if channel is Channel.LOG:
        return DeliveryStatus.SENT, None  # the log channel only records
    if channel in recipients.disabled:
        return DeliveryStatus.SKIPPED, f"channel disabled: {recipients.disabled[channel]}"
    key = recipients.keys.get(channel)
    if key and key in recipients.blocked:
        return DeliveryStatus.SKIPPED, "unsubscribed"
    return DeliveryStatus.PENDING, None


def deliveries(
    news: News,
    audience: Audience,
    channels: Iterable[Channel],
    recipients: Recipients,
    now: datetime,
    seal: Seal,
) -> list[Delivery]:
    """One delivery of `news` to `audience` per channel (the address sealed, aad = its id)."""
    # A staff log entry with nobody to reach: a later catalogue may bring the contacts.
    unreachable = audience.kind is not RecipientKind.RESIDENT and not audience.addresses
    out: list[Delivery] = []
    for channel in channels:
        address = audience.addresses.get(channel)
        did = delivery_id(news.dedupe_key, audience, channel)
        status, reason = first_status(channel, recipients)
        out.append(
            Delivery(
                id=did,
                news=news,
                recipient_kind=audience.kind,
                recipient_id=audience.recipient_id,
                recipient=mask(channel, address) if address else label(audience),
                channel=channel,
                address_sealed=seal(address, did) if address else None,
                address_key=recipients.keys.get(channel),
                language=audience.language,
                status=status,
                last_error=reason,
                attempts=0,
                next_attempt_at=now,
                created_at=now,
                sent_at=now if status is DeliveryStatus.SENT else None,
                no_contact=channel is Channel.LOG and unreachable,
            )
        )
    return out


def recorded_outcome(delivery: Delivery) -> str:
    """The metric outcome of a delivery settled when recorded (`recorded` for the log)."""
    return RECORDED if delivery.channel is Channel.LOG else delivery.status.value
