"""Thin event handlers: decode, ask the domain, record pending deliveries in the consumer's
transaction, and wake the delivery worker. Nothing is sent from here."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import timedelta
from typing import Any

from pymongo.asynchronous.client_session import AsyncClientSession

from services.notify.domain.delivery import UnsubscribeTokens, mask
from services.notify.domain.model import (
    AgencyContact,
    Audience,
    Channel,
    DeliveryStatus,
    Incoming,
    RecipientKind,
    ReportView,
)
from services.notify.domain.rules import (
    agency_addresses,
    apply,
    can_unsubscribe,
    dedupe_key,
    is_stale,
    language_of,
    resident_audience,
    staff_audience,
    tells_resident,
    template_name,
)
from services.notify.metrics import RecordedCounter
from services.notify.store import Catalog, NotifyStore
from shared.crypto import PiiBox
from shared.events import (
    PAYLOADS,
    CatalogV1,
    CloudEvent,
    ReportCreatedV1,
    Status,
    Topic,
    utcnow,
)
from shared.mongo import Document

log = logging.getLogger(__name__)

PENDING = DeliveryStatus.PENDING.value
RECORDED = "recorded"  # the log channel's outcome: the entry is the record

# Fields of a payload that notify never keeps (resident text, places, photos, sealed contact).
_NOT_KEPT = {"contact_sealed", "description", "location", "address", "photo_urls", "attributes"}


@dataclass(frozen=True)
class HandlerConfig:
    ioc_agency_id: str
    report_url_template: str
    disabled: dict[Channel, str]  # channel -> why it is off
    backfill_hours: float = 24.0  # how far back a new catalogue tells agencies it missed


def incoming(topic: str, event: CloudEvent) -> Incoming:
    data = event.payload(PAYLOADS[topic]).model_dump(
        mode="json", exclude=_NOT_KEPT, exclude_none=True
    )
    return Incoming(
        event_id=event.id,
        type=topic,
        report_id=event.subject,
        source=event.source.replace(".", "_"),
        sequence=event.sequence,
        time=event.time,
        agency_id=data.get("agency_id"),
        assignment_id=data.get("assignment_id"),
        attempt=data.get("attempt"),
        details=data,
    )


def delivery_id(key: str, audience: Audience, channel: Channel) -> str:
    raw = f"{key}|{audience.kind.value}|{audience.recipient_id}|{channel.value}"
    return hashlib.sha256(raw.encode()).hexdigest()[:32]


class EventHandlers:
    def __init__(
        self,
        store: NotifyStore,
        box: PiiBox,
        tokens: UnsubscribeTokens,
        config: HandlerConfig,
        wake: Callable[[], None],
        counter: RecordedCounter | None = None,
    ) -> None:
        self.store = store
        self.box = box
        self.tokens = tokens
        self.config = config
        self.wake = wake
        self.counter = counter

    def for_topic(self, topic: str) -> Callable[[CloudEvent, AsyncClientSession], Any]:
        async def handle(event: CloudEvent, session: AsyncClientSession) -> None:
            await self.on_report_event(topic, event, session)

        handle.__doc__ = f"Records who hears about `{topic}` and the report's status change."
        return handle

    async def on_catalog(self, event: CloudEvent, session: AsyncClientSession) -> None:
        """Keeps the newest catalogue: agencies' public contacts and category names."""
        catalog = event.payload(CatalogV1)
        newer = await self.store.save_catalog(
            {
                "version": catalog.version,
                "agencies": [a.model_dump(mode="json") for a in catalog.agencies],
                "categories": {c.code: c.name for c in catalog.categories},
            },
            session,
        )
        if newer and self.config.backfill_hours > 0:
            outcomes: list[tuple[str, str]] = []
            await self._backfill(await self.store.catalog(session), session, outcomes)
            self._settle(event.id, outcomes)

    async def _backfill(
        self, catalog: Catalog, session: AsyncClientSession, outcomes: list[tuple[str, str]]
    ) -> None:
        """Tells agencies of the assignments they could not be told of (no catalogue yet, or no
        contacts in it) in the last `backfill_hours`, now that the catalogue reaches them.

        Only a report's latest assignment, and only while the report still waits with that
        agency (`assigned`); the deliveries get the ids the assignment would have given them,
        so a catalogue arriving again creates nothing more.
        """
        since = utcnow() - timedelta(hours=self.config.backfill_hours)
        settled: list[str] = []
        for entry in await self.store.unreachable_assignments(since, session):
            agency = catalog.agencies.get(entry["recipient_id"])
            addresses = agency_addresses(agency)
            if not addresses:
                continue  # still nobody to reach: a later catalogue may
            settled.append(entry["_id"])
            view, _ = await self.store.load_view(entry["report_id"], session)
            latest = await self.store.latest_assignment_entry(entry["report_id"], session)
            if (
                latest is None
                or latest["_id"] != entry["_id"]
                or view.status is not Status.ASSIGNED
                or view.agency_id != entry["recipient_id"]
            ):
                continue  # re-routed, taken up or finished since: the news is stale
            audience = Audience(
                RecipientKind(entry["recipient_kind"]),
                entry["recipient_id"],
                entry["language"],
                addresses,
            )
            news = {
                k: entry[k]
                for k in ("event_id", "event_type", "dedupe_key", "report_id", "template")
            }
            news["context"] = _renamed(entry["context"], agency, catalog, entry["language"])
            await self._insert(news, audience, list(addresses), session, outcomes)
        await self.store.mark_reachable(settled, session)

    async def on_report_event(
        self, topic: str, event: CloudEvent, session: AsyncClientSession
    ) -> None:
        ev = incoming(topic, event)
        view, doc = await self.store.load_view(ev.report_id, session)
        stale = is_stale(view, ev)
        new_view, change = apply(view, ev)
        extra: Document = {}
        contact: dict[str, str] | None = None
        if ev.type == Topic.REPORT_CREATED and not stale:
            created = event.payload(ReportCreatedV1)
            contact = self._open(created.contact_sealed, ev.report_id)
            new_view.language = language_of((contact or {}).get("language") or created.language)
            extra["contact_sealed"] = created.contact_sealed  # stays sealed at rest
        elif new_view.contact_known and tells_resident(ev):
            contact = self._open(doc.get("contact_sealed"), ev.report_id)
        if change is not None:
            await self.store.add_status_change(ev.report_id, change, session)
        catalog = await self.store.catalog(session)
        plans: list[tuple[Incoming, Audience]] = []
        push: Document | None = None
        if not stale:
            staff = staff_audience(ev, new_view, catalog.agencies, self.config.ioc_agency_id)
            if staff is not None:
                plans.append((ev, staff))
            if tells_resident(ev) and new_view.contact_known:
                plans.append((ev, resident_audience(ev, contact, new_view.language)))
            elif tells_resident(ev):
                push = _to_doc(ev)  # told once report.created brings the contact
        if ev.type == Topic.REPORT_CREATED and not stale:
            for waiting in doc.get("awaiting_contact") or []:
                plans.append(
                    (_from_doc(waiting), resident_audience(ev, contact, new_view.language))
                )
        await self.store.save_view(
            new_view,
            session,
            extra=extra,
            push_awaiting=push,
            clear_awaiting=ev.type == Topic.REPORT_CREATED and not stale,
        )
        outcomes: list[tuple[str, str]] = []
        for news, audience in plans:
            await self._record(news, audience, new_view, catalog, session, outcomes)
        self._settle(event.id, outcomes)

    def _settle(self, event_id: str, outcomes: list[tuple[str, str]]) -> None:
        """Counts what was settled at recording, and wakes the worker if anything is pending."""
        if self.counter is not None:
            self.counter.count(event_id, [o for o in outcomes if o[1] != PENDING])
        if any(outcome == PENDING for _, outcome in outcomes):
            self.wake()

    def _open(self, sealed: str | None, report_id: str) -> dict[str, str] | None:
        if not sealed:
            return None
        try:
            value = self.box.open(sealed, aad=report_id)
        except Exception:
            log.warning("reporter contact could not be opened; resident gets no message")
            return None
        return {str(k): str(v) for k, v in value.items() if v} if isinstance(value, dict) else None

    async def _record(
        self,
        ev: Incoming,
        audience: Audience,
        view: ReportView,
        catalog: Catalog,
        session: AsyncClientSession,
        outcomes: list[tuple[str, str]],
    ) -> None:
        """Records the deliveries of one news to one audience; appends (channel, outcome) of
        each newly recorded one to `outcomes` (outcome `recorded` for the log channel)."""
        news: Document = {
            "event_id": ev.event_id,
            "event_type": ev.type,
            "dedupe_key": dedupe_key(ev),
            "report_id": ev.report_id,
            "template": template_name(audience.kind, ev.type),
            "context": self._context(ev, audience, view, catalog),
        }
        await self._insert(news, audience, [Channel.LOG, *audience.addresses], session, outcomes)

    async def _insert(
        self,
        news: Document,
        audience: Audience,
        channels: list[Channel],
        session: AsyncClientSession,
        outcomes: list[tuple[str, str]],
    ) -> None:
        """One delivery of `news` (event id and type, dedupe key, report, template, context) to
        `audience` per channel, unless it exists (same id from the same dedupe key)."""
        now = utcnow()
        # Addresses that can unsubscribe (their messages carry the link); the key is an HMAC.
        keys: dict[Channel, str] = {
            ch: self.tokens.address_key(ch, addr)
            for ch, addr in audience.addresses.items()
            if can_unsubscribe(audience.kind, ch)
        }
        blocked = await self.store.any_unsubscribed(list(keys.values()), session)
        # A staff log entry with nobody to reach: a later catalogue may bring the contacts.
        unreachable = audience.kind is not RecipientKind.RESIDENT and not audience.addresses
        for channel in channels:
            address = audience.addresses.get(channel)
            did = delivery_id(news["dedupe_key"], audience, channel)
            status, reason = self._initial_status(channel, keys.get(channel), blocked)
            shown = mask(channel, address) if address else _label(audience)
            doc: Document = {
                "_id": did,
                **news,
                "recipient_kind": audience.kind.value,
                "recipient_id": audience.recipient_id,
                "recipient": shown,
                "channel": channel.value,
                "address_sealed": self.box.seal(address, aad=did) if address else None,
                "address_key": keys.get(channel),
                "language": audience.language,
                "status": status.value,
                "last_error": reason,
                "attempts": 0,
                "next_attempt_at": now,
                "lease_until": None,
                "owner": None,
                "created_at": now,
                "sent_at": now if status is DeliveryStatus.SENT else None,
            }
            if channel is Channel.LOG and unreachable:
                doc["no_contact"] = True
            if await self.store.record_delivery(doc, session):
                outcome = RECORDED if channel is Channel.LOG else status.value
                outcomes.append((channel.value, outcome))

    def _initial_status(
        self, channel: Channel, address_key: str | None, blocked: set[str]
    ) -> tuple[DeliveryStatus, str | None]:
        if channel is Channel.LOG:
            return DeliveryStatus.SENT, None  # the log channel only records
        if channel in self.config.disabled:
            return DeliveryStatus.SKIPPED, f"channel disabled: {self.config.disabled[channel]}"
        if address_key and address_key in blocked:
            return DeliveryStatus.SKIPPED, "unsubscribed"
        return DeliveryStatus.PENDING, None

    def _context(
        self, ev: Incoming, audience: Audience, view: ReportView, catalog: Catalog
    ) -> Document:
        """What templates may show: no personal data, names in the audience's language."""
        lang = audience.language
        agency_id = ev.agency_id or view.agency_id
        agency = catalog.agencies.get(agency_id or "")
        agency_name = _agency_name(agency, lang) or ev.details.get("agency_name") or agency_id
        category = ev.details.get("category") or view.category
        names = catalog.categories.get(category or "", {})
        return {
            "report_id": ev.report_id,
            "report_url": self.config.report_url_template.format(report_id=ev.report_id),
            "event_type": ev.type,
            "status": view.status.value if view.status else None,
            "time": ev.time.isoformat(),
            "agency_id": agency_id,
            "agency_name": agency_name,
            "category": category,
            "category_name": names.get(lang) or category,
            **{
                k: v
                for k, v in ev.details.items()
                if k in {"note", "reason", "due_at", "duplicate_of", "level", "attempt"}
            },
        }


def _agency_name(agency: AgencyContact | None, lang: str) -> str | None:
    if agency is None:
        return None
    return agency.name.get(lang) or next(iter(agency.name.values()), None)


def _renamed(
    context: Document, agency: AgencyContact | None, catalog: Catalog, lang: str
) -> Document:
    """A stored context with the agency's and category's names from a newer catalogue."""
    names = catalog.categories.get(context.get("category") or "", {})
    return {
        **context,
        "agency_name": _agency_name(agency, lang) or context.get("agency_name"),
        "category_name": names.get(lang) or context.get("category_name"),
    }


def _label(audience: Audience) -> str:
    """How the log channel names a recipient: `resident`, `agency:roads`, `operator:ioc`."""
    if audience.kind is RecipientKind.RESIDENT:
        return "resident"
    return f"{audience.kind.value}:{audience.recipient_id}"


def _to_doc(ev: Incoming) -> Document:
    return asdict(ev)


def _from_doc(doc: Document) -> Incoming:
    return Incoming(**doc)
