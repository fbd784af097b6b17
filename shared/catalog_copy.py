"""A consumer's copy of routing's catalogue (`jurisdiction.catalog`): the newest version wins.

Intake, notify and analytics each keep one in their own database. The compacted topic can
replay an older version, and a redelivery repeats one: neither replaces a newer copy.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable

from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase

from shared.catalog import CATALOG_KEY, CatalogV1
from shared.mongo import Document

log = logging.getLogger(__name__)
COLLECTION = "catalog"


class CatalogCopy:
    """Also held in memory: `current()` reads the database at most once per `max_age_s`.

    Only one replica of a service consumes a catalogue event (the topic has one key), so the
    others learn of a new version from the database when their copy in memory ages out.
    """

    def __init__(
        self,
        db: AsyncDatabase[Document],
        collection: str = COLLECTION,
        *,
        max_age_s: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.col = db[collection]
        self.max_age_s = max_age_s
        self.clock = clock
        self._held: CatalogV1 | None = None
        self._read_at = -math.inf

    async def current(self) -> CatalogV1 | None:
        """The newest copy this replica knows, from memory while it is fresh."""
        if self._held is None or self.clock() - self._read_at >= self.max_age_s:
            try:
                self.remember(await self.load())
            except Exception:
                if self._held is None:
                    raise
                log.warning("catalogue copy not refreshed; serving version %d", self._held.version)
            self._read_at = self.clock()
        return self._held

    def remember(self, catalog: CatalogV1 | None) -> None:
        """Holds `catalog` if newer; call it once the transaction that saved it committed
        (`uow.after_commit`), never before."""
        if catalog is not None and (self._held is None or catalog.version > self._held.version):
            self._held = catalog

    async def save(self, catalog: CatalogV1, session: AsyncClientSession | None) -> bool:
        """Stores `catalog` unless the copy is as new or newer; True if it was stored."""
        current = await self.col.find_one(
            {"_id": CATALOG_KEY}, {"version": 1, "data.version": 1}, session=session
        )
        # a copy kept in an older shape (no `data`) is replaced whatever its version
        if current is not None and "data" in current and current["version"] >= catalog.version:
            return False
        doc = {"version": catalog.version, "data": catalog.model_dump(mode="json")}
        await self.col.replace_one({"_id": CATALOG_KEY}, doc, upsert=True, session=session)
        return True

    async def load(self, session: AsyncClientSession | None = None) -> CatalogV1 | None:
        doc = await self.col.find_one({"_id": CATALOG_KEY}, session=session)
        if doc is None or "data" not in doc:
            return None  # none yet, or a copy in an older shape (the next `save` replaces it)
        return CatalogV1.model_validate(doc["data"])
