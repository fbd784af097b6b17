"""In-memory stand-ins for analytics' stores: the same methods, no I/O."""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pymongo.asynchronous.client_session import AsyncClientSession

from services.analytics.domain.corrections import Corrected
from services.analytics.domain.facts import Fact
from services.analytics.domain.figures import Breakdown, CellCount, Group, Totals
from services.analytics.domain.history import History, Projected
from services.analytics.domain.rollups import Counts, RollupBasis, RollupKey
from services.analytics.domain.stats import Filters, Interval
from shared.catalog import CatalogV1


class FakeFacts:
    """`stores.FactStore`: each report's fact and events; `reads` counts the batch reads."""

    def __init__(self) -> None:
        self.docs: dict[str, History] = {}
        self.reads = 0

    async def histories(
        self, report_ids: Sequence[str], session: AsyncClientSession | None = None
    ) -> dict[str, History]:
        self.reads += 1
        return {r: self.docs[r] for r in report_ids if r in self.docs}

    async def save(
        self, projected: Sequence[Projected], session: AsyncClientSession | None = None
    ) -> None:
        for p in projected:
            self.docs[p.fact.report_id] = History(p.fact, p.events)

    def fact(self, report_id: str) -> Fact | None:
        history = self.docs.get(report_id)
        return history.fact if history else None

    async def any(self) -> bool:
        return bool(self.docs)

    async def every_fact(self) -> AsyncIterator[Fact]:
        for history in self.docs.values():
            if history.fact is not None:
                yield history.fact


class FakeRollups:
    """`stores.RollupStore`: lines summed in memory."""

    def __init__(self, basis: RollupBasis | None = None) -> None:
        self.lines: dict[RollupKey, Counts] = {}
        self.stored_basis = basis
        self.writes = 0

    async def apply(
        self,
        lines: Sequence[tuple[RollupKey, Counts]],
        session: AsyncClientSession | None = None,
    ) -> None:
        self.writes += 1
        for key, counts in lines:
            line = self.lines.setdefault(key, {})
            for name, value in counts.items():
                line[name] = line.get(name, 0) + value

    async def basis(self) -> RollupBasis | None:
        return self.stored_basis

    async def replace_all(
        self, lines: Sequence[tuple[RollupKey, Counts]], basis: RollupBasis
    ) -> None:
        self.lines = {}
        await self.apply(lines)
        self.stored_basis = basis

    def nonzero(self) -> dict[RollupKey, Counts]:
        """The lines with their non-zero counters (what a rebuild would store)."""
        out = {k: {n: v for n, v in c.items() if v} for k, c in self.lines.items()}
        return {k: c for k, c in out.items() if c}


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
    corrected: list[Corrected] = field(default_factory=list)
    now_in: dict[str | None, int] = field(default_factory=dict)
    calls: list[tuple[str, Any]] = field(default_factory=list)
    percentiles: list[tuple[float, ...]] = field(default_factory=list)

    async def summary(self, filters: Filters, now: datetime) -> tuple[Totals, Breakdown]:
        self.calls.append(("summary", now))
        return self.totals, self.breakdown

    async def by_agency(
        self, filters: Filters, now: datetime, percentiles: Sequence[float] = (50, 90)
    ) -> list[Group]:
        self.calls.append(("by_agency", now))
        self.percentiles.append(tuple(percentiles))
        return list(self.agencies)

    async def by_category(
        self, filters: Filters, now: datetime, percentiles: Sequence[float] = (50,)
    ) -> list[Group]:
        self.calls.append(("by_category", now))
        return list(self.categories)

    async def series(
        self, filters: Filters, interval: Interval
    ) -> tuple[dict[str, int], dict[str, int]]:
        self.calls.append(("series", interval))
        return dict(self.created), dict(self.resolved)

    async def corrections(self, filters: Filters) -> tuple[list[Corrected], Counter[str | None]]:
        self.calls.append(("corrections", None))
        return list(self.corrected), Counter(self.now_in)

    async def grid(self, filters: Filters, cell: float, limit: int) -> tuple[list[CellCount], int]:
        self.calls.append(("grid", (cell, limit)))
        return self.cells[:limit], len(self.cells)


def group(key: str, **counts: Any) -> Group:
    """A group with zero counts except those given."""
    base: dict[str, Any] = dict(
        received=0, resolved=0, on_time=0, deadline_known=0, backlog=0, overdue=0
    )
    return Group(key=key, **{**base, **counts})
