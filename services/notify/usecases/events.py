"""What an incoming event means: the report's view and status stream move, and the deliveries
of its news are recorded, all in the consumer's unit of work. Nothing is sent from here:
pending deliveries wake the worker."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from services.notify.domain.catalog import Directory, directory_of
from services.notify.domain.delivery import UnsubscribeTokens
from services.notify.domain.model import Audience, Channel, DeliveryStatus, Incoming, News
from services.notify.domain.planning import (
    Recipients,
    deliveries,
    news_of,
    recorded_outcome,
    renamed,
)
from services.notify.domain.rules import (
    agency_addresses,
    apply,
    can_unsubscribe,
    is_stale,
    still_waits,
    tells_resident,
    who_hears,
    with_contact,
)
from services.notify.metrics import RecordedCounter
from services.notify.usecases.ports import Catalogs, Deliveries, Preferences, Reports
from shared.crypto import PiiBox
from shared.events import CatalogV1, Topic
from shared.uow import Session, UnitOfWork

log = logging.getLogger(__name__)

Outcomes = list[tuple[str, str]]  # (channel, outcome) of each delivery recorded


@dataclass(frozen=True)
class NewsConfig:
    ioc_agency_id: str
    report_url_template: str  # `{report_id}` is replaced
    disabled: dict[Channel, str]  # channel -> why it is off
    backfill_hours: float = 24.0  # how far back a new catalogue tells agencies it missed


class RecordEvents:
    """Applies report events and catalogue versions (each inside the consumer's unit of work)."""

    def __init__(
        self,
        reports: Reports,
        deliveries: Deliveries,
        preferences: Preferences,
        catalogs: Catalogs,
        box: PiiBox,
        tokens: UnsubscribeTokens,
        config: NewsConfig,
        clock: Callable[[], datetime],
        wake: Callable[[], None],
        counter: RecordedCounter | None = None,
    ) -> None:
        self.reports = reports
        self.deliveries = deliveries
        self.preferences = preferences
        self.catalogs = catalogs
        self.box = box
        self.tokens = tokens
        self.config = config
        self.clock = clock
        self.wake = wake
        self.counter = counter

    async def report_event(
        self, event: Incoming, uow: UnitOfWork, *, contact_sealed: str | None = None
    ) -> None:
        """Moves the report's view, streams its status change, and records who hears the news.

        `contact_sealed` is `report.created`'s sealed reporter contact.
        """
        session = uow.session
        before = await self.reports.load(event.report_id, session)
        stale = is_stale(before, event)
        view, change = apply(before, event)
        contact: dict[str, str] | None = None
        if event.type == Topic.REPORT_CREATED and not stale:
            contact = self._open(contact_sealed, event.report_id)
            view = with_contact(view, contact_sealed, contact, event.details.get("language"))
        elif view.contact_known and tells_resident(event):
            contact = self._open(view.contact_sealed, event.report_id)
        if change is not None:
            await self.reports.add_status_change(event.report_id, change, session)
        directory = directory_of(await self.catalogs.load(session))
        plan: list[tuple[Incoming, Audience]] = []
        if not stale:
            plan, view = who_hears(
                event, view, contact, directory.agencies, self.config.ioc_agency_id
            )
        await self.reports.save(view, session)
        outcomes: Outcomes = []
        for news_event, audience in plan:
            url = self.config.report_url_template.format(report_id=news_event.report_id)
            news = news_of(news_event, audience, view, directory, url)
            channels = [Channel.LOG, *audience.addresses]
            outcomes += await self._record(news, audience, channels, session)
        self._settle(event.event_id, outcomes)

    async def catalog(self, catalog: CatalogV1, event_id: str, uow: UnitOfWork) -> None:
        """Keeps the newest catalogue; a newer one tells agencies what they missed."""
        newer = await self.catalogs.save(catalog, uow.session)
        if newer and self.config.backfill_hours > 0:
            outcomes = await self._backfill(directory_of(catalog), uow.session)
            self._settle(event_id, outcomes)

    async def _backfill(self, directory: Directory, session: Session) -> Outcomes:
        """Tells agencies of the assignments they could not be told of (no catalogue yet, or no
        contacts in it) in the last `backfill_hours`, now that the catalogue reaches them.

        Only a report's latest assignment, and only while the report still waits with that
        agency (`assigned`); the deliveries get the ids the assignment would have given them,
        so a catalogue arriving again creates nothing more.
        """
        since = self.clock() - timedelta(hours=self.config.backfill_hours)
        settled: list[str] = []
        outcomes: Outcomes = []
        for entry in await self.deliveries.unreachable_assignments(since, session):
            agency = directory.agencies.get(entry.recipient_id)
            addresses = agency_addresses(agency)
            if not addresses:
                continue  # still nobody to reach: a later catalogue may
            settled.append(entry.id)
            report_id = entry.news.report_id
            view = await self.reports.load(report_id, session)
            latest = await self.deliveries.latest_assignment_entry(report_id, session)
            if not still_waits(entry, latest, view):
                continue  # re-routed, taken up or finished since: the news is stale
            audience = Audience(entry.recipient_kind, entry.recipient_id, entry.language, addresses)
            news = renamed(entry.news, agency, directory, entry.language)
            outcomes += await self._record(news, audience, list(addresses), session)
        await self.deliveries.mark_reachable(settled, session)
        return outcomes

    async def _record(
        self, news: News, audience: Audience, channels: Iterable[Channel], session: Session
    ) -> Outcomes:
        """Records one delivery of `news` to `audience` per channel, unless it exists; returns
        the (channel, outcome) of each new one."""
        # Addresses that can unsubscribe (their messages carry the link); the key is an HMAC.
        keys = {
            ch: self.tokens.address_key(ch, addr)
            for ch, addr in audience.addresses.items()
            if can_unsubscribe(audience.kind, ch)
        }
        blocked = await self.preferences.any_unsubscribed(list(keys.values()), session)
        recipients = Recipients(keys, blocked, self.config.disabled)
        outcomes: Outcomes = []
        for delivery in deliveries(news, audience, channels, recipients, self.clock(), self._seal):
            if await self.deliveries.record(delivery, session):
                outcomes.append((delivery.channel.value, recorded_outcome(delivery)))
        return outcomes

    def _settle(self, event_id: str, outcomes: Outcomes) -> None:
        """Counts what was settled at recording, and wakes the worker if anything is pending."""
        pending = DeliveryStatus.PENDING.value
        if self.counter is not None:
            self.counter.count(event_id, [o for o in outcomes if o[1] != pending])
        if any(outcome == pending for _, outcome in outcomes):
            self.wake()

    def _seal(self, address: str, aad: str) -> str:
        return self.box.seal(address, aad=aad)

    def _open(self, sealed: str | None, report_id: str) -> dict[str, str] | None:
        if not sealed:
            return None
        try:
            value = self.box.open(sealed, aad=report_id)
        except Exception:
            log.warning("reporter contact could not be opened; resident gets no message")
            return None
        return {str(k): str(v) for k, v in value.items() if v} if isinstance(value, dict) else None
