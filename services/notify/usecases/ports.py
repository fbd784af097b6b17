"""What the use cases need from storage: the stores in `stores/` (and the catalogue copy in
`shared/catalog_copy.py`) have these methods; the use-case tests' fakes too."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime, timedelta
from typing import Protocol

from services.notify.domain.model import (
    Channel,
    Claimed,
    Delivery,
    DeliveryFilter,
    Lease,
    Outcome,
    ReportView,
    StatusChange,
)
from shared.catalog import CatalogV1
from shared.uow import Session


class Reports(Protocol):
    async def load_many(
        self, report_ids: list[str], session: Session = None, unknown: Collection[str] = ()
    ) -> dict[str, ReportView]: ...

    async def save_many(self, views: list[ReportView], session: Session = None) -> None: ...

    async def add_status_changes(
        self, changes: list[tuple[str, StatusChange]], session: Session = None
    ) -> None: ...

    async def status_changes(
        self, report_id: str, after: int, limit: int = 100
    ) -> list[StatusChange]: ...

    async def known(self, report_id: str) -> bool: ...


class Deliveries(Protocol):
    async def record_many(
        self,
        deliveries: list[Delivery],
        session: Session = None,
        lease: Lease | None = None,
        assume_new: bool = False,
    ) -> set[str]: ...

    async def unreachable_assignments(
        self, since: datetime, session: Session = None, limit: int = 5000
    ) -> list[Delivery]: ...

    async def of_reports(
        self, report_ids: list[str], session: Session = None
    ) -> list[Delivery]: ...

    async def mark_reachable(self, ids: list[str], session: Session = None) -> None: ...

    async def page(self, filters: DeliveryFilter, limit: int, offset: int) -> list[Delivery]: ...


class Queue(Protocol):
    """The worker's side of the deliveries: claims under a lease, outcomes, depths."""

    async def claim(
        self, now: datetime, lease: timedelta, limit: int, look_ahead: timedelta
    ) -> Claimed: ...

    async def finish(self, token: str, outcomes: list[tuple[Delivery, Outcome]]) -> None: ...

    async def queue_depths(self) -> dict[str, int]: ...

    async def adopt_legacy(self) -> int: ...


class Preferences(Protocol):
    async def unsubscribe(self, address_key: str, channel: Channel, now: datetime) -> None: ...

    async def any_unsubscribed(self, keys: list[str], session: Session = None) -> set[str]: ...


class Catalogs(Protocol):
    """The catalogue copy (`shared/catalog_copy.py`): held in memory, read again when it ages."""

    async def save(self, catalog: CatalogV1, session: Session) -> bool: ...

    async def current(self) -> CatalogV1 | None: ...

    def remember(self, catalog: CatalogV1 | None) -> None: ...
