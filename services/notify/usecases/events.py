"""What incoming events mean: the reports' views and status streams move, and the deliveries of
their news are recorded, all in the consumer's unit of work. Nothing is sent from here: once
the unit of work commits, pending deliveries wake the worker.

A polled batch is applied at once: one read of the views of its reports, each event applied in
order in memory, then one write per collection (views, status changes, deliveries). A
catalogue event in the batch is applied where it stands: what came before it is written
first, so its backfill sees it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from services.notify.domain.catalog import Directory, directory_of
from services.notify.domain.delivery import UnsubscribeTokens
from services.notify.domain.model import (
    Channel,
    Delivery,
    DeliveryStatus,
    Incoming,
    Lease,
    ReportView,
    StatusChange,
)
from services.notify.domain.planning import news_of
from services.notify.domain.rules import (
    apply,
    is_stale,
    tells_resident,
    who_hears,
    with_contact,
)
from services.notify.metrics import RecordedCounter
from services.notify.usecases.backfill import Backfill
from services.notify.usecases.catalogue import CatalogueCache
from services.notify.usecases.ports import Deliveries, Preferences, Reports
from services.notify.usecases.recording import Planned, Recorded, Recorder
from shared.catalog import CatalogV1
from shared.crypto import PiiBox
from shared.events import Topic, first_created
from shared.uow import UnitOfWork

log = logging.getLogger(__name__)

Scope = Callable[[], AbstractContextManager[None]]  # the event's log ids and trace span


@dataclass(frozen=True)
class NewsConfig:
    ioc_agency_id: str
    report_url_template: str  # `{report_id}` is replaced
    disabled: dict[Channel, str]  # channel -> why it is off
    backfill_hours: float = 24.0  # how far back a new catalogue tells agencies it missed


@dataclass(frozen=True)
class Arrival:
    """A new report event of the batch; `contact_sealed` is `report.created`'s."""

    event: Incoming
    contact_sealed: str | None = None
    scope: Scope = field(default=nullcontext)


@dataclass(frozen=True)
class CatalogArrival:
    catalog: CatalogV1
    event_id: str
    scope: Scope = field(default=nullcontext)


class Handoff(Protocol):
    """The worker of this process, taking pending deliveries straight from the batch that
    recorded them (held by its lease, so that they need no claim)."""

    def lease(self) -> Lease | None:
        """A lease for what a batch is about to record; None to leave it to the claims."""
        ...

    def hand_over(self, lease: Lease, deliveries: list[Delivery]) -> None: ...


@dataclass
class _Unit:
    """One application of a batch: its unit of work, the lease of its pending deliveries, and
    what it recorded so far."""

    uow: UnitOfWork
    lease: Lease | None
    recorded: Recorded = field(default_factory=Recorded)


@dataclass
class _Run:
    """The effects of consecutive report events, kept in memory until written together."""

    views: dict[str, ReportView]
    before: dict[str, ReportView]
    changes: list[tuple[str, StatusChange]] = field(default_factory=list)
    planned: list[Planned] = field(default_factory=list)


class RecordEvents:
    """Applies report events and catalogue versions (inside the consumer's unit of work)."""

    def __init__(
        self,
        reports: Reports,
        deliveries: Deliveries,
        preferences: Preferences,
        catalogue: CatalogueCache,
        box: PiiBox,
        tokens: UnsubscribeTokens,
        config: NewsConfig,
        clock: Callable[[], datetime],
        wake: Callable[[], None],
        counter: RecordedCounter | None = None,
        handoff: Handoff | None = None,
    ) -> None:
        self.reports = reports
        self.catalogue = catalogue
        self.box = box
        self.config = config
        self.wake = wake
        self.counter = counter
        self.handoff = handoff
        self.recorder = Recorder(deliveries, preferences, box, tokens, config.disabled, clock)
        self.backfill = Backfill(reports, deliveries, self.recorder, clock, config.backfill_hours)

    async def apply(self, batch: list[Arrival | CatalogArrival], uow: UnitOfWork) -> None:
        """Applies a batch of new events in order."""
        unit = _Unit(uow, self.handoff.lease() if self.handoff is not None else None)
        directory, fresher = await self.catalogue.current()
        if fresher is not None:  # stored by another replica: tell what it would have told
            await self._newer_catalogue(fresher, f"catalog:{fresher.version}", unit)
        run: list[Arrival] = []
        for item in batch:
            if isinstance(item, Arrival):
                run.append(item)
                continue
            await self._reports(run, directory, unit)
            run = []
            with item.scope():
                newer = await self.catalogue.save(item.catalog, uow.session)
            if newer:
                directory = directory_of(item.catalog)
                await self._newer_catalogue(item.catalog, item.event_id, unit)
        await self._reports(run, directory, unit)
        uow.after_commit(lambda: self._settle(unit))

    async def _newer_catalogue(self, catalog: CatalogV1, key: str, unit: _Unit) -> None:
        unit.uow.after_commit(lambda: self.catalogue.offer(catalog))
        session, directory = unit.uow.session, directory_of(catalog)
        unit.recorded.merge(await self.backfill.run(directory, key, session, unit.lease))

    async def _reports(self, arrivals: list[Arrival], directory: Directory, unit: _Unit) -> None:
        """Applies consecutive report events: one read, the events in order, one write each."""
        if not arrivals:
            return
        session, optimistic = unit.uow.session, unit.uow.optimistic
        ids = [a.event.report_id for a in arrivals]
        # New events of an optimistic unit of work: a report whose first is `created` has no view
        # yet (else a duplicate key runs the batch again, reading it), nor its news deliveries.
        unknown = (
            first_created((a.event.report_id, a.event.type) for a in arrivals)
            if optimistic
            else set()
        )
        views = await self.reports.load_many(ids, session, unknown)
        run = _Run(views, dict(views))
        for arrival in arrivals:
            with arrival.scope():
                self._step(arrival, run, directory)
        recorded = await self.recorder.record(run.planned, session, unit.lease, optimistic)
        unit.recorded.merge(recorded)
        await self.reports.add_status_changes(run.changes, session)
        moved = [v for report_id, v in run.views.items() if v != run.before[report_id]]
        await self.reports.save_many(moved, session)

    def _step(self, arrival: Arrival, run: _Run, directory: Directory) -> None:
        """One event: moves the report's view, streams its status change, plans who hears."""
        event = arrival.event
        view = run.views[event.report_id]
        if is_stale(view, event):
            return  # an older state change of one producer than one applied: nothing to do
        view, change = apply(view, event)
        if change is not None:
            run.changes.append((event.report_id, change))
        contact: dict[str, str] | None = None
        if event.type == Topic.REPORT_CREATED:
            contact = self._open(arrival.contact_sealed, event.report_id)
            language = event.details.get("language")
            view = with_contact(view, arrival.contact_sealed, contact, language)
        elif view.contact_known and tells_resident(event):
            contact = self._open(view.contact_sealed, event.report_id)
        plan, view = who_hears(event, view, contact, directory.agencies, self.config.ioc_agency_id)
        run.views[event.report_id] = view
        for news_event, audience in plan:
            url = self.config.report_url_template.format(report_id=news_event.report_id)
            news = news_of(news_event, audience, view, directory, url)
            channels = [Channel.LOG, *audience.addresses]
            run.planned.append(Planned(event.event_id, news, audience, channels))

    def _settle(self, unit: _Unit) -> None:
        """After the commit: counts what was settled at recording, and hands the pending
        deliveries to the worker (or wakes it to claim them)."""
        pending, recorded = DeliveryStatus.PENDING.value, unit.recorded
        if self.counter is not None:
            for event_id, outcomes in recorded.outcomes.items():
                self.counter.count(event_id, [o for o in outcomes if o[1] != pending])
        if not recorded.pending:
            return
        if unit.lease is not None and self.handoff is not None:
            self.handoff.hand_over(unit.lease, recorded.pending)
        else:
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
