"""What analytics' use cases need from its stores (the MongoDB adapters in `stores/` and the
in-memory fakes of `tests/analytics/fakes.py` both provide it)."""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator, Sequence
from datetime import datetime
from typing import Protocol

from services.analytics.domain.corrections import Corrected
from services.analytics.domain.facts import Fact, Recorded
from services.analytics.domain.figures import Breakdown, CellCount, Group, Totals
from services.analytics.domain.history import History, Projected
from services.analytics.domain.rollups import Counts, RollupBasis, RollupKey
from services.analytics.domain.stats import Filters, Interval
from shared.catalog import CatalogV1
from shared.uow import Session


class Histories(Protocol):
    async def histories(
        self, report_ids: Sequence[str], session: Session = None
    ) -> dict[str, History]: ...

    async def save(self, projected: Sequence[Projected], session: Session = None) -> None: ...


class StoredFacts(Histories, Protocol):
    async def any(self) -> bool: ...

    def every_fact(self) -> AsyncIterator[Fact]: ...


class LegacyLog(Protocol):
    async def exists(self) -> bool: ...

    def reports(self) -> AsyncIterator[tuple[str, list[Recorded]]]: ...

    async def drop(self) -> None: ...


class Rollups(Protocol):
    async def apply(
        self, lines: Sequence[tuple[RollupKey, Counts]], session: Session = None
    ) -> None: ...

    async def basis(self) -> RollupBasis | None: ...

    async def replace_all(
        self, lines: Sequence[tuple[RollupKey, Counts]], basis: RollupBasis
    ) -> None: ...


class Catalogs(Protocol):
    async def save(self, catalog: CatalogV1, session: Session) -> bool: ...

    async def load(self, session: Session = None) -> CatalogV1 | None: ...


class CatalogReader(Protocol):
    async def load(self, session: Session = None) -> CatalogV1 | None: ...


class Aggregations(Protocol):
    async def summary(self, filters: Filters, now: datetime) -> tuple[Totals, Breakdown]: ...

    async def by_agency(
        self, filters: Filters, now: datetime, percentiles: Sequence[float] = (50, 90)
    ) -> list[Group]: ...

    async def by_category(
        self, filters: Filters, now: datetime, percentiles: Sequence[float] = (50,)
    ) -> list[Group]: ...

    async def series(
        self, filters: Filters, interval: Interval
    ) -> tuple[dict[str, int], dict[str, int]]: ...

    async def corrections(
        self, filters: Filters
    ) -> tuple[list[Corrected], Counter[str | None]]: ...

    async def grid(
        self, filters: Filters, cell: float, limit: int
    ) -> tuple[list[CellCount], int]: ...
