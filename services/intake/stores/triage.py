"""The category model's collections: `triage_models` (every trained version, its held-out
metrics, its exported weights, whether it was promoted) and `triage_examples` (the operators'
corrections, `_id` = report id, so one example per report).

Recurring queries: the serving replicas ask every `TRIAGE_REFRESH_S` for the newest promoted
version number (index `promoted`: promoted, _id); the weights are read only when it changed.
The trainer reads every correction (whole, on purpose) and the newest version number (the same
index, once per value of `promoted`)."""

from __future__ import annotations

from typing import Any

from pymongo import DESCENDING, IndexModel
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase

from services.intake.domain.triage import Correction
from shared.mongo import Document

MODELS = "triage_models"
EXAMPLES = "triage_examples"


def triage_indexes() -> dict[str, list[IndexModel]]:
    """`triage_examples` is written and read by `_id` (and read whole by the trainer only)."""
    return {MODELS: [IndexModel([("promoted", DESCENDING), ("_id", DESCENDING)], name="promoted")]}


class TriageModelStore:
    """`_id` is the version number (unique: two trainers racing for one number, one loses)."""

    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.col = db[MODELS]

    async def newest_promoted_version(self) -> int | None:
        doc = await self.col.find_one(
            {"promoted": True}, {"_id": 1}, sort=[("promoted", DESCENDING), ("_id", DESCENDING)]
        )
        return int(doc["_id"]) if doc else None

    async def promoted(self) -> dict[str, Any] | None:
        """The newest promoted model's record, weights included (`model`)."""
        return await self.col.find_one(
            {"promoted": True}, sort=[("promoted", DESCENDING), ("_id", DESCENDING)]
        )

    async def newest_version(self) -> int:
        """The highest version, promoted or not: one read per value on index `promoted` (the
        embedded server sorts a whole collection, weights and all, for `{}` by `_id`)."""
        newest = 0
        for promoted in (True, False):
            doc = await self.col.find_one(
                {"promoted": promoted},
                {"_id": 1},
                sort=[("promoted", DESCENDING), ("_id", DESCENDING)],
            )
            newest = max(newest, int(doc["_id"])) if doc else newest
        return newest

    async def insert(self, record: Document) -> None:
        await self.col.insert_one(record)

    async def summaries(self, limit: int = 20) -> list[Document]:
        """The newest versions without their weights."""
        cursor = self.col.find({}, {"model": 0}).sort("_id", DESCENDING).limit(limit)
        return [doc async for doc in cursor]


class CorrectionStore:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.col = db[EXAMPLES]

    async def put(self, c: Correction, session: AsyncClientSession | None = None) -> None:
        """Replaces the report's example (the use case decided this correction is the latest)."""
        doc = {
            "description": c.description,
            "category": c.category,
            "previous_category": c.previous_category,
            "source": c.source,
            "at": c.at,
        }
        await self.col.replace_one({"_id": c.report_id}, doc, upsert=True, session=session)

    async def all(self) -> list[Correction]:
        return [
            Correction(
                report_id=str(d["_id"]),
                description=d["description"],
                category=d["category"],
                previous_category=d.get("previous_category", ""),
                at=d["at"],
                source=d.get("source", "operator"),
            )
            async for d in self.col.find({})
        ]
