"""The current jurisdiction document and its areas (2dsphere), rewritten together.

Routing holds the document in force in memory and answers point lookups there
(`domain/areas.py`); the `areas` collection and its 2dsphere index are the database's check
that it can hold every geometry (a refusal aborts the change) and the reference that the
in-memory lookup is tested against (`areas_containing`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from pymongo import IndexModel
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError

from services.routing.domain.closures import Closure, Closures
from services.routing.domain.errors import AreaRefused
from services.routing.domain.jurisdiction import AreaHit, Jurisdiction
from shared.mongo import Document

JURISDICTION = "jurisdiction"
AREAS = "areas"
CURRENT = "current"

AREA_INDEXES: dict[str, Sequence[IndexModel]] = {
    AREAS: [IndexModel([("geometry", "2dsphere")], name="geometry_2dsphere")],
}


def _refusal(errmsg: str) -> str:
    """The reason of a geo-key refusal without the document mongod quotes before it."""
    tail = errmsg.rsplit("}", 1)[-1].strip(" .:") if "}" in errmsg else ""
    return (tail or errmsg)[:300]


class JurisdictionStore:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.documents = db[JURISDICTION]
        self.areas = db[AREAS]

    async def current(self, session: AsyncClientSession | None = None) -> Jurisdiction | None:
        doc = await self.documents.find_one({"_id": CURRENT}, session=session)
        return Jurisdiction.model_validate(doc["document"]) if doc and "document" in doc else None

    async def version(self, session: AsyncClientSession | None = None) -> int | None:
        """The version of the stored document (a small read: routing's replicas compare it
        with the one they hold)."""
        doc = await self.documents.find_one({"_id": CURRENT}, {"version": 1}, session=session)
        return int(doc["version"]) if doc else None

    async def stamp(self, session: AsyncClientSession | None = None) -> tuple[int, int] | None:
        """The versions of the stored document and of the closure days (one small read)."""
        doc = await self.documents.find_one(
            {"_id": CURRENT}, {"version": 1, "closures_version": 1}, session=session
        )
        return (int(doc["version"]), int(doc.get("closures_version", 0))) if doc else None

    async def closures(self, session: AsyncClientSession | None = None) -> Closures:
        """The admin's closure days (kept with the document: one version read covers both)."""
        doc = await self.documents.find_one(
            {"_id": CURRENT}, {"closures": 1, "closures_version": 1}, session=session
        )
        if not doc:
            return Closures()
        items = tuple(
            Closure(date.fromisoformat(c["day"]), c["reason"], tuple(c.get("agencies", ())))
            for c in doc.get("closures", [])
        )
        return Closures(int(doc.get("closures_version", 0)), items)

    async def save_closures(
        self, closures: Closures, session: AsyncClientSession | None = None
    ) -> None:
        days = [
            {"day": c.day.isoformat(), "reason": c.reason, "agencies": list(c.agencies)}
            for c in closures.items
        ]
        await self.documents.update_one(
            {"_id": CURRENT},
            {"$set": {"closures": days, "closures_version": closures.version}},
            upsert=True,
            session=session,
        )

    async def save(self, j: Jurisdiction, session: AsyncClientSession | None = None) -> None:
        """Replaces the document and its areas (in the caller's transaction; the closure
        days stay); raises `AreaRefused` when the 2dsphere index refuses an area's geometry."""
        await self.documents.update_one(
            {"_id": CURRENT},
            {"$set": {"version": j.version, "document": j.model_dump(mode="json")}},
            upsert=True,
            session=session,
        )
        await self.areas.delete_many({}, session=session)
        if not j.areas:
            return
        try:
            await self.areas.insert_many(
                [
                    {"_id": a.id, "level": a.level, "geometry": a.geometry, "version": j.version}
                    for a in j.areas
                ],
                ordered=True,
                session=session,
            )
        except BulkWriteError as exc:
            # A document-level write error on an area: its geometry (ids are unique by then).
            first = (exc.details.get("writeErrors") or [{}])[0]
            index = first.get("index")
            area = (
                j.areas[index].id if isinstance(index, int) and 0 <= index < len(j.areas) else "?"
            )
            raise AreaRefused(area, _refusal(str(first.get("errmsg", exc)))) from exc

    async def areas_containing(
        self, lon: float, lat: float, session: AsyncClientSession | None = None
    ) -> list[AreaHit]:
        point = {"type": "Point", "coordinates": [lon, lat]}
        cursor = self.areas.find(
            {"geometry": {"$geoIntersects": {"$geometry": point}}}, {"level": 1}, session=session
        )
        return [AreaHit(d["_id"], d["level"]) async for d in cursor]
