"""In-memory stores with the methods of the real ones (`services/notify/stores/`), and a rig
that wires notify's event use case on them with the fake unit of work. No I/O."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from services.notify.domain.delivery import UnsubscribeTokens
from services.notify.domain.model import (
    RETRYABLE,
    Channel,
    Delivery,
    DeliveryFilter,
    Outcome,
    RecipientKind,
    ReportView,
    StatusChange,
)
from services.notify.handlers import EventHandlers
from services.notify.usecases.events import NewsConfig, RecordEvents
from shared.batch import Handler
from shared.crypto import PiiBox
from shared.events import CatalogV1, CloudEvent, Topic, utcnow
from shared.settings import DEV_PII_KEY
from shared.uow import FakeTransactions, Session, UnitOfWork

BOX = PiiBox(DEV_PII_KEY)
TOKENS = UnsubscribeTokens("test-unsubscribe-secret")


class FakeReports:
    def __init__(self) -> None:
        self.views: dict[str, ReportView] = {}
        self.changes: dict[str, list[StatusChange]] = {}

    async def load(self, report_id: str, session: Session = None) -> ReportView:
        return replace(self.views.get(report_id) or ReportView(report_id))

    async def save(self, view: ReportView, session: Session = None) -> None:
        self.views[view.report_id] = view

    async def add_status_change(
        self, report_id: str, change: StatusChange, session: Session = None
    ) -> None:
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
class _Lease:
    owner: str
    until: datetime


class FakeDeliveries:
    def __init__(self) -> None:
        self.items: dict[str, Delivery] = {}
        self.leases: dict[str, _Lease] = {}

    def of(self, report_id: str, **match: object) -> list[Delivery]:
        """Test helper: the report's deliveries whose attributes equal `match`."""
        found = [d for d in self.items.values() if d.news.report_id == report_id]
        return [d for d in found if all(getattr(d, k) == v for k, v in match.items())]

    async def record(self, delivery: Delivery, session: Session = None) -> bool:
        if delivery.id in self.items:
            return False
        self.items[delivery.id] = delivery
        return True

    async def unreachable_assignments(
        self, since: datetime, session: Session = None, limit: int = 5000
    ) -> list[Delivery]:
        found = [
            d
            for d in self.items.values()
            if d.no_contact and d.created_at >= since and d.news.event_type == Topic.REPORT_ASSIGNED
        ]
        return sorted(found, key=lambda d: d.created_at)[:limit]

    async def latest_assignment_entry(
        self, report_id: str, session: Session = None
    ) -> Delivery | None:
        found = [
            d
            for d in self.of(report_id, channel=Channel.LOG)
            if d.news.event_type == Topic.REPORT_ASSIGNED
            and d.recipient_kind is not RecipientKind.RESIDENT
        ]
        return max(found, key=lambda d: (d.created_at, d.id), default=None)

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

    async def claim_due(self, owner: str, now: datetime, lease: timedelta) -> Delivery | None:
        due = [
            d
            for d in self.items.values()
            if d.status in RETRYABLE
            and d.next_attempt_at is not None
            and d.next_attempt_at <= now
            and (d.id not in self.leases or self.leases[d.id].until <= now)
        ]
        if not due:
            return None
        first = min(due, key=lambda d: d.next_attempt_at or now)
        self.leases[first.id] = _Lease(owner, now + lease)
        return first

    async def finish(self, delivery_id: str, owner: str, outcome: Outcome) -> None:
        lease = self.leases.get(delivery_id)
        if lease is None or lease.owner != owner:
            return
        del self.leases[delivery_id]
        d = self.items[delivery_id]
        self.items[delivery_id] = replace(
            d,
            status=outcome.status,
            attempts=outcome.attempts,
            last_error=outcome.last_error,
            next_attempt_at=outcome.next_attempt_at or d.next_attempt_at,
            sent_at=outcome.sent_at or d.sent_at,
        )

    async def queue_depths(self) -> dict[str, int]:
        return {s.value: sum(d.status is s for d in self.items.values()) for s in RETRYABLE}


class FakePreferences:
    def __init__(self) -> None:
        self.unsubscribed_keys: dict[str, Channel] = {}

    async def unsubscribed(self, address_key: str) -> bool:
        return address_key in self.unsubscribed_keys

    async def unsubscribe(self, address_key: str, channel: Channel, now: datetime) -> None:
        self.unsubscribed_keys[address_key] = channel

    async def any_unsubscribed(self, keys: list[str], session: Session = None) -> set[str]:
        return {k for k in keys if k in self.unsubscribed_keys}


class FakeCatalogs:
    def __init__(self) -> None:
        self.copy: CatalogV1 | None = None

    async def save(self, catalog: CatalogV1, session: Session) -> bool:
        if self.copy is not None and self.copy.version >= catalog.version:
            return False
        self.copy = catalog
        return True

    async def load(self, session: Session = None) -> CatalogV1 | None:
        return self.copy


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

    def __post_init__(self) -> None:
        config = NewsConfig("ioc", "https://city/r/{report_id}", self.disabled, self.backfill_hours)
        self.events = RecordEvents(
            self.reports,
            self.deliveries,
            self.preferences,
            self.catalogs,
            BOX,
            TOKENS,
            config,
            lambda: self.now,
            self._wake,
        )
        self.handlers = EventHandlers(self.events)

    def _wake(self) -> None:
        self.wakeups += 1

    async def apply(self, *events: CloudEvent) -> None:
        """Each event in its own unit of work, as the consumer does."""
        for event in events:
            handler: Handler = self.handlers.for_topic(event.type)
            if event.type == Topic.JURISDICTION_CATALOG:
                handler = self.handlers.on_catalog

            async def work(
                uow: UnitOfWork, event: CloudEvent = event, h: Handler = handler
            ) -> None:
                await h(event, uow)

            await self.transactions.run(work)
