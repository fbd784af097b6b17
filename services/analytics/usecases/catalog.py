"""The kept catalogue held in memory, so that no statistic reads it from the database.

Read from the store on first use, replaced once this process commits a newer version
(`offer`, after the commit), and read again at most every `max_age_s`: with several replicas
only one of them consumes the catalogue topic, and the others learn of a new version that way.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from services.analytics.usecases.ports import CatalogReader
from shared.catalog import CatalogV1
from shared.uow import Session


class CatalogMemory:
    def __init__(
        self,
        store: CatalogReader,
        max_age_s: float = 300.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.store = store
        self.max_age_s = max_age_s
        self.monotonic = monotonic
        self._held: CatalogV1 | None = None
        self._read_at: float | None = None

    def held(self) -> CatalogV1 | None:
        """What memory holds now (no read)."""
        return self._held

    async def load(self, session: Session = None) -> CatalogV1 | None:
        """The newest catalogue known (read from the store when due)."""
        if self._read_at is None or self.monotonic() - self._read_at >= self.max_age_s:
            stored = await self.store.load()
            self._read_at = self.monotonic()
            if stored is not None:
                self.offer(stored)
        return self._held

    def offer(self, catalog: CatalogV1) -> None:
        """A committed catalogue: held from now on if it is newer than the one held."""
        if self._held is None or catalog.version > self._held.version:
            self._held = catalog
