"""A consumer's copy of routing's catalogue (`jurisdiction.catalog`): the newest version wins.

Intake, notify and analytics each keep one in their own database. The compacted topic can
replay an older version, and a redelivery repeats one: neither replaces a newer copy.
"""

from __future__ import annotations

from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from shared.events import CATALOG_KEY, CatalogV1
from shared.mongo import Document

COLLECTION = "catalog"


class CatalogCopy:
    def __init__(self, db: AsyncDatabase[Document], collection: str = COLLECTION) -> None:
        self.col = db[collection]

    async def save(self, catalog: CatalogV1, session: AsyncClientSession | None) -> bool:
        """Stores `catalog` unless the copy is as new or newer; True if it was stored."""
        doc = {"version": catalog.version, "data": catalog.model_dump(mode="json")}
        res = await self.col.update_one(
            {"_id": CATALOG_KEY, "version": {"$lt": catalog.version}},
            {"$set": doc},
            session=session,
        )
        if res.matched_count:
            return True
        try:
            await self.col.insert_one({"_id": CATALOG_KEY, **doc}, session=session)
        except DuplicateKeyError:
            return False  # as new or newer already
        return True

    async def load(self, session: AsyncClientSession | None = None) -> CatalogV1 | None:
        doc = await self.col.find_one({"_id": CATALOG_KEY}, session=session)
        if doc is None or "data" not in doc:
            return None  # none yet (or a copy in an older shape: the next publication replaces it)
        return CatalogV1.model_validate(doc["data"])
