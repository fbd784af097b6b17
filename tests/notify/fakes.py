"""In-memory stores with the methods of the real ones (`services/notify/stores/`), and a rig
that wires notify's event use case on them with the fake unit of work. No I/O."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Collection
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from services.notify.domain.delivery import UnsubscribeTokens
from services.notify.domain.model import (
    RETRYABLE,
    Channel,
    Claimed,
    Delivery,
    DeliveryFilter,
    DeliveryStatus,
    Lease,
    Outcome,
    ReportView,
    StatusChange,
)
from services.notify.handlers import EventHandlers
from services.notify.usecases.catalogue import CatalogueCache
from services.notify.usecases.events import NewsConfig, RecordEvents
from shared.catalog import CatalogV1
from shared.crypto import PiiBox
from shared.events import CloudEvent, Topic, utcnow
from shared.settings import DEV_PII_KEY
from shared.uow import FakeTransactions, Session, UnitOfWork
from tests.support import polled

BOX = PiiBox(DEV_PII_KEY)
TOKENS = UnsubscribeTokens("test-unsubscribe-secret")


class FakeReports:
    def __init__(self) -> None:
        self.views: dict[str, ReportView] = {}
        self.changes: dict[str, list[StatusChange]] = {}

    async def load_many(
        self, report_ids: list[str], session: Session = None, unknown: Collection[str] = ()
    ) -> dict[str, ReportView]:
        known = {i: v for i, v in self.views.items() if i not in unknown}
        return {i: replace(known.get(i) or ReportView(i)) for i in report_ids}

    async def save_many(self, views: list[ReportView], session: Session = None) -> None:
        for view in views:
            assert view.stored == (view.report_id in self.views), "inserted twice, or lost"
            self.views[view.report_id] = replace(view, stored=True)

    async def add_status_changes(
        self, changes: list[tuple[str, StatusChange]], session: Session = None
    ) -> None:
        for report_id, change in changes:
            assert all(c.n != change.n for c in self.changes.get(report_id, [])), "(report, n)"
            self.changes.setdefault(report_id, []).append(change)

    async def status_changes(
        self, report_id: str, after: int, limit: int = 100
    ) -> list[StatusChange]:
        return [c for c in self.changes.get(report_id, []) if c.n > after][:limit]

    async def known(self, report_id: str) -> bool:
        return report_id in self.views

    async def stream_counters(self, report_ids: list[str]) -> dict[str, int]:
        return {i: self.views[i].stream_n for i in report_ids if i in self.views}


@dataclass
class Held:
    """A lease on one delivery."""

    owner: str
    until: datetime


class FakeDeliveries:
    """The deliveries store and the worker's queue (the same collection in MongoDB)."""

    def __init__(self) -> None:
        self.items: dict[str, Delivery] = {}
        self.leases: dict[str, Held] = {}
        self.claims = 0

    def of(self, report_id: str, **match: object) -> list[Delivery]:
        """Test helper: the report's deliveries whose attributes equal `match`."""
        found = [d for d in self.items.values() if d.news.report_id == report_id]
        return [d for d in found if all(getattr(d, k) == v for k, v in match.items())]

    async def record(self, delivery: Delivery) -> bool:
        """Test helper: stores one delivery unless its id exists."""
        return bool(await self.record_many([delivery]))

    async def record_many(
        self,
        deliveries: list[Delivery],
        session: Session = None,
        lease: Lease | None = None,
        assume_new: bool = False,
    ) -> set[str]:
        new: set[str] = set()
        for d in deliveries:
            if d.id not in self.items:
                self.items[d.id] = d
                new.add(d.id)
                if lease is not None and d.status is DeliveryStatus.PENDING:
                    self.leases[d.id] = Held(lease.owner, lease.until)
        return new

    async def unreachable_assignments(
        self, since: datetime, session: Session = None, limit: int = 5000
    ) -> list[Delivery]:
        found = [
            d
            for d in self.items.values()
            if d.no_contact and d.created_at >= since and d.news.event_type == Topic.REPORT_ASSIGNED
        ]
        return sorted(found, key=lambda d: d.created_at)[:limit]

    async def of_reports(self, report_ids: list[str], session: Session = None) -> list[Delivery]:
        return [d for d in self.items.values() if d.news.report_id in report_ids]

    async def mark_reachable(self, ids: list[str], session: Session = None) -> None:
        for i in ids:
            self.items[i] = replace(self.items[i], no_contact=False)

    async def page(self, filters: DeliveryFilter, limit: int, offset: int) -> list[Delivery]:
        wanted = {k: v for k, v in vars(filters).items() if v is not None}
        found = [
            d
            for d in sorted(self.items.values(), key=lambda d: (d.created_at, d.id))
            if all(
                (d.news.report_id if k == "report_id" else getattr(d, k)) == v
                for k, v in wanted.items()
            )
        ]
        return found[offset : offset + limit]

    async def claim(
        self, now: datetime, lease: timedelta, limit: int, look_ahead: timedelta
    ) -> Claimed:
        def claimable(d: Delivery) -> datetime | None:
            if d.status not in RETRYABLE or d.next_attempt_at is None:
                return None
            held = self.leases.get(d.id)
            return max(d.next_attempt_at, held.until) if held else d.next_attempt_at

        queued = sorted((at, d.id) for d in self.items.values() if (at := claimable(d)) is not None)
        window = [(at, i) for at, i in queued if at <= now + look_ahead][:limit]
        due = [i for at, i in window if at <= now]
        later = now if len(due) >= limit else next((at for at, _ in window[len(due) :]), None)
        self.claims += 1
        token = f"claim-{self.claims}"
        for i in due:
            self.leases[i] = Held(token, now + lease)
        return Claimed(token, [self.items[i] for i in due], later)

    async def finish(self, token: str, outcomes: list[tuple[Delivery, Outcome]]) -> None:
        for delivery, outcome in outcomes:
            lease = self.leases.get(delivery.id)
            if lease is None or lease.owner != token:
                continue
            del self.leases[delivery.id]
            d = self.items[delivery.id]
            self.items[delivery.id] = replace(
                d,
                status=outcome.status,
                attempts=outcome.attempts,
                last_error=outcome.last_error,
                next_attempt_at=outcome.next_attempt_at or d.next_attempt_at,
                sent_at=outcome.sent_at or d.sent_at,
            )

    async def queue_depths(self) -> dict[str, int]:
        return {s.value: sum(d.status is s for d in self.items.values()) for s in RETRYABLE}

    async def adopt_legacy(self) -> int:
        return 0


class FakePreferences:
    def __init__(self) -> None:
        self.unsubscribed_keys: dict[str, Channel] = {}

    async def unsubscribe(self, address_key: str, channel: Channel, now: datetime) -> None:
        self.unsubscribed_keys[address_key] = channel

    async def any_unsubscribed(self, keys: list[str], session: Session = None) -> set[str]:
        return {k for k in keys if k in self.unsubscribed_keys}


class FakeCatalogs:
    """The stored copy (`copy`), and the one held in memory, read again after 60 s of `clock`."""

    def __init__(self, clock: Callable[[], float] = lambda: 0.0) -> None:
        self.copy: CatalogV1 | None = None
        self.loads = 0
        self.clock = clock
        self._held: CatalogV1 | None = None
        self._read_at = -1e9

    async def save(self, catalog: CatalogV1, session: Session) -> bool:
        if self.copy is not None and self.copy.version >= catalog.version:
            return False
        self.copy = catalog
        return True

    async def current(self) -> CatalogV1 | None:
        if self._held is None or self.clock() - self._read_at >= 60:
            self.loads += 1
            self.remember(self.copy)
            self._read_at = self.clock()
        return self._held

    def remember(self, catalog: CatalogV1 | None) -> None:
        if catalog is not None and (self._held is None or catalog.version > self._held.version):
            self._held = catalog


class FakeHandoff:
    """A worker taking what a batch records: leases while `room`, keeps what it is handed."""

    def __init__(self, room: bool = True) -> None:
        self.room = room
        self.leases = 0
        self.handed: list[tuple[Lease, list[Delivery]]] = []

    def lease(self) -> Lease | None:
        if not self.room:
            return None
        self.leases += 1
        return Lease(f"handoff-{self.leases}", utcnow() + timedelta(seconds=60))

    def hand_over(self, lease: Lease, deliveries: list[Delivery]) -> None:
        self.handed.append((lease, deliveries))


@dataclass
class Rig:
    """RecordEvents on fakes, fed through notify's real handlers in fake units of work."""

    disabled: dict[Channel, str] = field(default_factory=dict)
    backfill_hours: float = 24.0
    now: datetime = field(default_factory=utcnow)
    reports: FakeReports = field(default_factory=FakeReports)
    deliveries: FakeDeliveries = field(default_factory=FakeDeliveries)
    preferences: FakePreferences = field(default_factory=FakePreferences)
    catalogs: FakeCatalogs = field(default_factory=FakeCatalogs)
    transactions: FakeTransactions = field(default_factory=FakeTransactions)
    wakeups: int = 0
    monotonic: float = 0.0  # the catalogue cache's clock
    handoff: FakeHandoff | None = None

    def __post_init__(self) -> None:
        config = NewsConfig("ioc", "https://city/r/{report_id}", self.disabled, self.backfill_hours)
        self.catalogs.clock = lambda: self.monotonic
        self.catalogue = CatalogueCache(self.catalogs)
        self.events = RecordEvents(
            self.reports,
            self.deliveries,
            self.preferences,
            self.catalogue,
            BOX,
            TOKENS,
            config,
            lambda: self.now,
            self._wake,
            handoff=self.handoff,
        )
        self.handlers = EventHandlers(self.events)

    def _wake(self) -> None:
        self.wakeups += 1

    async def apply(self, *events: CloudEvent) -> None:
        """Each event in its own unit of work (a consumer's batch of one)."""
        for event in events:
            await self.apply_batch(event)

    async def apply_batch(self, *events: CloudEvent) -> None:
        """All the events in one unit of work, as the consumer applies a polled batch."""

        async def work(uow: UnitOfWork) -> None:
            await self.handlers.on_batch([polled(e) for e in events], uow)

        await self.transactions.run(work)

    async def apply_then_fail(self, *events: CloudEvent) -> None:
        """The events applied in a unit of work that then fails (it is rolled back)."""

        async def work(uow: UnitOfWork) -> None:
            await self.handlers.on_batch([polled(e) for e in events], uow)
            raise RuntimeError("the transaction aborts")

        with contextlib.suppress(RuntimeError):
            await self.transactions.run(work)
