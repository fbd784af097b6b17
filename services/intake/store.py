"""MongoDB adapters of intake: reports, the catalogue copy, idempotency keys, supports, photos."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from gridfs import AsyncGridFSBucket
from gridfs.errors import NoFile
from pymongo import ASCENDING, DESCENDING, GEOSPHERE, IndexModel
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase

from services.intake.domain.catalog import Catalog
from shared.events import CatalogV1
from shared.mongo import Document

REPORTS = "reports"
CATALOG = "catalog"
IDEMPOTENCY = "idempotency_keys"
SUPPORTS = "supports"
PHOTOS = "photos"  # GridFS bucket: photos.files / photos.chunks
PHOTO_FILES = f"{PHOTOS}.files"

_ID_RE = re.compile(r"^[A-Za-z0-9_.:-]{1,100}$")


def indexes(idempotency_ttl_s: int) -> dict[str, Sequence[IndexModel]]:
    return {
        REPORTS: [
            IndexModel([("location", GEOSPHERE)], name="location_2dsphere"),
            IndexModel([("created_at", DESCENDING), ("_id", DESCENDING)], name="feed"),
            IndexModel([("status", ASCENDING), ("created_at", DESCENDING)], name="by_status"),
            IndexModel([("category", ASCENDING), ("created_at", DESCENDING)], name="by_category"),
            IndexModel([("agency_id", ASCENDING), ("created_at", DESCENDING)], name="by_agency"),
            IndexModel([("status", ASCENDING), ("announced_at", ASCENDING)], name="reconcile"),
            IndexModel([("status", ASCENDING), ("resolved_at", ASCENDING)], name="autoclose"),
            # Open311 servicerequestupdates: timeline entries by the time intake stored them
            IndexModel([("timeline.recorded_at", ASCENDING)], name="updates"),
            IndexModel([("timeline.at", ASCENDING)], name="updates_legacy"),
        ],
        IDEMPOTENCY: [
            IndexModel("created_at", name="idempotency_ttl", expireAfterSeconds=idempotency_ttl_s)
        ],
        SUPPORTS: [IndexModel([("report_id", ASCENDING)], name="by_report")],
        # the photo sweeper's query: pending uploads, oldest first
        PHOTO_FILES: [
            IndexModel(
                [("metadata.pending", ASCENDING), ("uploadDate", ASCENDING)], name="pending_photos"
            )
        ],
    }


def valid_id(value: str) -> bool:
    return bool(_ID_RE.match(value))


class Store:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.db = db
        self.reports = db[REPORTS]
        self.idempotency = db[IDEMPOTENCY]
        self.supports = db[SUPPORTS]
        self.catalog_col = db[CATALOG]
        self.photos = AsyncGridFSBucket(db, bucket_name=PHOTOS)
        self.photo_files = db[PHOTO_FILES]

    # ------------------------------------------------------------------ catalogue copy

    async def catalog(self) -> Catalog | None:
        doc = await self.catalog_col.find_one({"_id": "catalog"})
        return Catalog(CatalogV1.model_validate(doc["data"])) if doc else None

    async def save_catalog(self, catalog: CatalogV1, session: AsyncClientSession) -> bool:
        """Keeps the newest version only (a replayed or older catalogue changes nothing)."""
        current = await self.catalog_col.find_one({"_id": "catalog"}, session=session)
        if current and int(current["version"]) >= catalog.version:
            return False
        await self.catalog_col.replace_one(
            {"_id": "catalog"},
            {"version": catalog.version, "data": catalog.model_dump(mode="json")},
            upsert=True,
            session=session,
        )
        return True

    # ------------------------------------------------------------------ reports

    async def get(
        self, report_id: str, session: AsyncClientSession | None = None
    ) -> Document | None:
        if not valid_id(report_id):
            return None
        return await self.reports.find_one({"_id": report_id}, session=session)

    async def insert(self, doc: Document, session: AsyncClientSession) -> None:
        await self.reports.insert_one(doc, session=session)

    async def update(
        self,
        report_id: str,
        changes: dict[str, Any],
        session: AsyncClientSession,
        *,
        timeline: Sequence[dict[str, Any]] = (),
        inc: dict[str, int] | None = None,
        expect_status: Sequence[str] | None = None,
    ) -> bool:
        query: dict[str, Any] = {"_id": report_id}
        if expect_status is not None:
            query["status"] = {"$in": list(expect_status)}
        update: dict[str, Any] = {}
        if changes:
            update["$set"] = changes
        if timeline:
            update["$push"] = {"timeline": {"$each": list(timeline)}}
        if inc:
            update["$inc"] = inc
        if not update:
            return True
        res = await self.reports.update_one(query, update, session=session)
        return res.matched_count == 1

    async def nearby(
        self,
        lat: float,
        lon: float,
        radius_m: float,
        *,
        category: str | None,
        open_statuses: Sequence[str],
        limit: int,
    ) -> list[Document]:
        query: dict[str, Any] = {
            "location": {
                "$near": {
                    "$geometry": {"type": "Point", "coordinates": [lon, lat]},
                    "$maxDistance": radius_m,
                }
            },
            "status": {"$in": list(open_statuses)},
        }
        if category:
            query["category"] = category
        return [d async for d in self.reports.find(query, _LIST_FIELDS).limit(limit)]

    async def feed(
        self, query: dict[str, Any], limit: int, after: tuple[datetime, str] | None
    ) -> list[Document]:
        if after is not None:
            at, rid = after
            query = {
                **query,
                "$or": [{"created_at": {"$lt": at}}, {"created_at": at, "_id": {"$lt": rid}}],
            }
        cursor = self.reports.find(query, _LIST_FIELDS).sort(
            [("created_at", DESCENDING), ("_id", DESCENDING)]
        )
        return [d async for d in cursor.limit(limit)]

    async def find_page(self, query: dict[str, Any], skip: int, limit: int) -> list[Document]:
        cursor = self.reports.find(query, _LIST_FIELDS).sort(
            [("created_at", DESCENDING), ("_id", DESCENDING)]
        )
        return [d async for d in cursor.skip(skip).limit(limit)]

    async def with_timeline_in(self, start: datetime, end: datetime, limit: int) -> list[Document]:
        """Reports with a timeline entry stored within [start, end] (entries older than
        `recorded_at`: by their event time); only their id and timeline."""
        window = {"$gte": start, "$lte": end}
        query = {
            "$or": [
                {"timeline": {"$elemMatch": {"recorded_at": window}}},
                {"timeline": {"$elemMatch": {"recorded_at": None, "at": window}}},
            ]
        }
        cursor = self.reports.find(query, {"_id": 1, "timeline": 1}).sort("_id", ASCENDING)
        return [d async for d in cursor.limit(limit)]

    async def stale_received(self, before: datetime, limit: int = 100) -> list[Document]:
        query = {"status": "received", "announced_at": {"$lte": before}}
        return [d async for d in self.reports.find(query, {"_id": 1}).limit(limit)]

    async def resolved_before(self, before: datetime, limit: int = 100) -> list[Document]:
        query = {"status": "resolved", "resolved_at": {"$lte": before}}
        return [d async for d in self.reports.find(query, {"_id": 1}).limit(limit)]

    # ------------------------------------------------------------------ idempotency, supports

    async def idempotency_record(self, key: str) -> Document | None:
        return await self.idempotency.find_one({"_id": key})

    async def add_idempotency(self, record: Document, session: AsyncClientSession) -> None:
        await self.idempotency.insert_one(record, session=session)

    async def add_support(
        self, report_id: str, client: str, at: datetime, session: AsyncClientSession
    ) -> None:
        await self.supports.insert_one(
            {"_id": f"{report_id}:{client}", "report_id": report_id, "at": at}, session=session
        )

    # ------------------------------------------------------------------ photos (GridFS)

    async def put_photo(self, file_id: str, data: bytes, content_type: str, report_id: str) -> None:
        """Stores a photo marked `pending`: GridFS cannot write inside a transaction, so the
        report's transaction clears the mark (`confirm_photos`); a photo still pending after the
        grace period belongs to a create that never committed and the sweeper deletes it."""
        await self.photos.upload_from_stream_with_id(
            file_id,
            file_id,
            data,
            metadata={"content_type": content_type, "report_id": report_id, "pending": True},
        )

    async def confirm_photos(self, file_ids: Sequence[str], session: AsyncClientSession) -> None:
        if file_ids:
            await self.photo_files.update_many(
                {"_id": {"$in": list(file_ids)}},
                {"$unset": {"metadata.pending": ""}},
                session=session,
            )

    async def pending_photos(self, uploaded_before: datetime, limit: int = 200) -> list[Document]:
        query = {"metadata.pending": True, "uploadDate": {"$lte": uploaded_before}}
        cursor = self.photo_files.find(query, {"_id": 1, "metadata.report_id": 1})
        return [d async for d in cursor.sort("uploadDate", ASCENDING).limit(limit)]

    async def delete_pending_photo(self, file_id: str) -> bool:
        """Deletes the file only while it is still pending (never a committed report's photo)."""
        if await self.photo_files.find_one({"_id": file_id, "metadata.pending": True}) is None:
            return False
        try:
            await self.photos.delete(file_id)
        except NoFile:
            return False
        return True

    async def photo(self, file_id: str) -> tuple[bytes, str] | None:
        if not valid_id(file_id):
            return None
        try:
            stream = await self.photos.open_download_stream(file_id)
        except NoFile:
            return None
        meta = stream.metadata or {}
        if meta.get("pending"):  # its report was never committed (or not yet)
            return None
        data = await stream.read()
        return data, str(meta.get("content_type", "application/octet-stream"))


# Fields a listing needs: never the token hash, the sealed contact or the timeline.
_LIST_FIELDS = {
    "token_hash": 0,
    "created_payload": 0,
    "timeline": 0,
    "seq": 0,
    "assign_seq": 0,
}
