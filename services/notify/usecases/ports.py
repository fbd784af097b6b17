"""What the use cases need from storage: the stores in `stores/` (and the catalogue copy in
`shared/catalog_copy.py`) have these methods; the use-case tests' fakes too."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Protocol

from services.notify.domain.model import (
    Channel,
    Delivery,
    DeliveryFilter,
    Outcome,
    ReportView,
    StatusChange,
)
from shared.events import CatalogV1
from shared.uow import Session


class Reports(Protocol):
    async def load(self, report_id: str, session: Session = None) -> ReportView: ...

    async def save(self, view: ReportView, session: Session = None) -> None: ...

    async def add_status_change(
        self, report_id: str, change: StatusChange, session: Session = None
    ) -> None: ...

    async def status_changes(
        self, report_id: str, after: int, limit: int = 100
    ) -> list[StatusChange]: ...

    async def known(self, report_id: str) -> bool: ...


class Deliveries(Protocol):
    async def record(self, delivery: Delivery, session: Session = None) -> bool: ...

    async def unreachable_assignments(
        self, since: datetime, session: Session = None, limit: int = 5000
    ) -> list[Delivery]: ...

    async def latest_assignment_entry(
        self, report_id: str, session: Session = None
    ) -> Delivery | None: ...

    async def mark_reachable(self, ids: list[str], session: Session = None) -> None: ...

    async def page(self, filters: DeliveryFilter, limit: int, offset: int) -> list[Delivery]: ...

    async def claim_due(self, owner: str, now: datetime, lease: timedelta) -> Delivery | None: ...

    async def finish(self, delivery_id: str, owner: str, outcome: Outcome) -> None: ...

    async def queue_depths(self) -> dict[str, int]: ...


class Preferences(Protocol):
    async def unsubscribed(self, address_key: str) -> bool: ...

    async def unsubscribe(self, address_key: str, channel: Channel, now: datetime) -> None: ...

    async def any_unsubscribed(self, keys: list[str], session: Session = None) -> set[str]: ...


class Catalogs(Protocol):
    async def save(self, catalog: CatalogV1, session: Session) -> bool: ...

    async def load(self, session: Session = None) -> CatalogV1 | None: ...
