"""A consumer's copy of routing's catalogue (`jurisdiction.catalog`): the newest version wins.

Intake, notify and analytics each keep one in their own database. The compacted topic can
replay an older version, and a redelivery repeats one: neither replaces a newer copy.
"""

from __future__ import annotations

from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase

from shared.events import CATALOG_KEY, CatalogV1
from shared.mongo import Document

COLLECTION = "catalog"


class CatalogCopy:
    def __init__(self, db: AsyncDatabase[Document], collection: str = COLLECTION) -> None:
        self.col = db[collection]

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
