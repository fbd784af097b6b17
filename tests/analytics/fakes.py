"""In-memory stand-ins for analytics' stores: the same methods, no I/O."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pymongo.asynchronous.client_session import AsyncClientSession

from services.analytics.domain.facts import DirtyMark, Fact, Recorded
from services.analytics.domain.figures import Breakdown, CellCount, Group, Totals
from services.analytics.domain.stats import Filters, Interval
from shared.events import CatalogV1


class FakeEventLog:
    """`stores.EventLog`: events by id (a repeated id is ignored), one mark per report.

    `arriving` events are recorded just after the next `events_of` read (a race with the
    projector)."""

    def __init__(self) -> None:
        self.events: dict[str, tuple[str, Recorded]] = {}
        self.dirty: dict[str, str] = {}
        self.arriving: list[tuple[str, Recorded]] = []

    async def record(
        self, report_id: str, event: Recorded, session: AsyncClientSession | None = None
    ) -> None:
        self.events.setdefault(event.id, (report_id, event))
        self.dirty[report_id] = event.id

    async def events_of(
        self, report_id: str, session: AsyncClientSession | None = None
    ) -> list[Recorded]:
        seen = [e for r, e in self.events.values() if r == report_id]
        while self.arriving:
            await self.record(*self.arriving.pop(0))
        return seen

    async def dirty_batch(
        self, limit: int, session: AsyncClientSession | None = None
    ) -> list[DirtyMark]:
        return [DirtyMark(r, t) for r, t in list(self.dirty.items())[:limit]]

    async def pending_count(self, session: AsyncClientSession | None = None) -> int:
        return len(self.dirty)

    async def clear_dirty(self, mark: DirtyMark, session: AsyncClientSession | None = None) -> None:
        if self.dirty.get(mark.report_id) == mark.token:
            del self.dirty[mark.report_id]


class FakeFactStore:
    """`stores.FactStore`: a fact is not replaced by one computed from fewer events."""

    def __init__(self) -> None:
        self.facts: dict[str, Fact] = {}

    async def save(self, fact: Fact, session: AsyncClientSession | None = None) -> None:
        current = self.facts.get(fact.report_id)
        if current is None or current.n_events <= fact.n_events:
            self.facts[fact.report_id] = fact


class FakeCatalog:
    """`shared.catalog_copy.CatalogCopy`: the newest version wins."""

    def __init__(self, catalog: CatalogV1 | None = None) -> None:
        self.catalog = catalog
        self.saves = 0

    async def save(self, catalog: CatalogV1, session: AsyncClientSession | None) -> bool:
        self.saves += 1
        if self.catalog is not None and self.catalog.version >= catalog.version:
            return False
        self.catalog = catalog
        return True

    async def load(self, session: AsyncClientSession | None = None) -> CatalogV1 | None:
        return self.catalog


@dataclass
class FakeAggregations:
    """`stores.FactQueries` with canned answers; `calls` records what each query was asked."""

    totals: Totals = field(default_factory=Totals)
    breakdown: Breakdown = field(default_factory=Breakdown)
    agencies: list[Group] = field(default_factory=list)
    categories: list[Group] = field(default_factory=list)
    created: dict[str, int] = field(default_factory=dict)
    resolved: dict[str, int] = field(default_factory=dict)
    cells: list[CellCount] = field(default_factory=list)
    calls: list[tuple[str, Any]] = field(default_factory=list)

    async def summary(self, filters: Filters, now: datetime) -> tuple[Totals, Breakdown]:
        self.calls.append(("summary", now))
        return self.totals, self.breakdown

    async def by_agency(self, filters: Filters, now: datetime) -> list[Group]:
        self.calls.append(("by_agency", now))
        return list(self.agencies)

    async def by_category(self, filters: Filters, now: datetime) -> list[Group]:
        self.calls.append(("by_category", now))
        return list(self.categories)

    async def series(
        self, filters: Filters, interval: Interval
    ) -> tuple[dict[str, int], dict[str, int]]:
        self.calls.append(("series", interval))
        return dict(self.created), dict(self.resolved)

    async def grid(self, filters: Filters, cell: float, limit: int) -> tuple[list[CellCount], int]:
        self.calls.append(("grid", (cell, limit)))
        return self.cells[:limit], len(self.cells)


def group(key: str, **counts: Any) -> Group:
    """A group with zero counts except those given."""
    base: dict[str, Any] = dict(
        received=0, resolved=0, on_time=0, deadline_known=0, backlog=0, overdue=0
    )
    return Group(key=key, **{**base, **counts})
