"""Photos in GridFS, written before the transaction that accepts them and confirmed inside it.

GridFS cannot write inside a MongoDB transaction. So a use case stores each (already sanitised)
photo marked `pending` first, then confirms the files in the same unit of work as the state
change that refers to them. A refused or failed change discards its pending files at once; a
crash between the two leaves files pending, which `sweep_once` deletes after a grace period.
A pending file is never served.

Used by intake (residents' photos) and routing (resolution photos), each with its own bucket.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from bson import Binary
from gridfs import AsyncGridFSBucket
from gridfs.errors import NoFile
from pymongo import ASCENDING, IndexModel
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase

from shared.aio import wait_any
from shared.events import utcnow
from shared.mongo import Document, utcnow_ms

log = logging.getLogger(__name__)


# GridFS's default chunk size (the driver's, and what its readers expect of none other)
CHUNK_BYTES = 255 * 1024


def photo_indexes(bucket: str) -> dict[str, Sequence[IndexModel]]:
    """GridFS's own two indexes (the names the driver gives them), and the sweeper's query:
    pending uploads, oldest first."""
    return {
        f"{bucket}.files": [
            IndexModel(
                [("filename", ASCENDING), ("uploadDate", ASCENDING)], name="filename_1_uploadDate_1"
            ),
            IndexModel(
                [("metadata.pending", ASCENDING), ("uploadDate", ASCENDING)], name="pending_photos"
            ),
        ],
        f"{bucket}.chunks": [
            IndexModel(
                [("files_id", ASCENDING), ("n", ASCENDING)], name="files_id_1_n_1", unique=True
            )
        ],
    }


class PhotoStore:
    def __init__(self, db: AsyncDatabase[Document], bucket: str) -> None:
        self.bucket = AsyncGridFSBucket(db, bucket_name=bucket)
        self.files = db[f"{bucket}.files"]
        self.chunks = db[f"{bucket}.chunks"]

    async def put_pending(
        self, data: bytes, content_type: str, owner: str, file_id: str | None = None
    ) -> str:
        """Stores a photo marked pending for `owner` (a report or assignment id), laid out as
        GridFS lays out a file (the bucket reads it back): its chunks in one write, then its
        files document (a reader finds a file by that document, so never a partial one).

        Not the driver's upload: before every file it reads the first document of both
        collections (its index check), which the embedded database answers by reading the
        collection whole; 140 ms per photo with 60 stored, and growing with them. The indexes
        are `photo_indexes`, created at startup."""
        file_id = file_id or uuid.uuid4().hex
        chunks = [
            {"files_id": file_id, "n": n, "data": Binary(data[at : at + CHUNK_BYTES])}
            for n, at in enumerate(range(0, len(data), CHUNK_BYTES))
        ]
        if chunks:
            await self.chunks.insert_many(chunks)
        await self.files.insert_one(
            {
                "_id": file_id,
                "length": len(data),
                "chunkSize": CHUNK_BYTES,
                "uploadDate": utcnow_ms(),
                "filename": file_id,
                "metadata": {"content_type": content_type, "owner": owner, "pending": True},
            }
        )
        return file_id

    async def confirm(self, file_ids: Sequence[str], session: AsyncClientSession | None) -> None:
        """Clears the pending mark, inside the transaction that accepts the photos."""
        if file_ids:
            await self.files.update_many(
                {"_id": {"$in": list(file_ids)}},
                {"$unset": {"metadata.pending": ""}},
                session=session,
            )

    async def discard(self, file_ids: Sequence[str]) -> None:
        """Best effort, after a refused or failed change: the sweeper gets what this misses."""
        for file_id in file_ids:
            try:
                await self.delete_pending(file_id)
            except Exception:
                log.warning("pending photo %s left to the sweeper", file_id, exc_info=True)

    async def delete_pending(self, file_id: str) -> bool:
        """Deletes the file only while it is still pending (never an accepted photo); with no
        files document at all, the chunks an upload that failed half-way left."""
        if await self.files.find_one({"_id": file_id, "metadata.pending": True}) is None:
            if await self.files.find_one({"_id": file_id}, {"_id": 1}) is None:
                await self.chunks.delete_many({"files_id": file_id})
            return False
        try:
            await self.bucket.delete(file_id)
        except NoFile:
            return False
        return True

    async def sweep_once(self, uploaded_before: datetime, limit: int = 200) -> int:
        """Deletes files still pending since before `uploaded_before`; returns how many."""
        query = {"metadata.pending": True, "uploadDate": {"$lte": uploaded_before}}
        cursor = self.files.find(query, {"_id": 1}).sort("uploadDate", ASCENDING).limit(limit)
        deleted = 0
        for doc in [d async for d in cursor]:
            deleted += await self.delete_pending(doc["_id"])
        return deleted

    async def get(self, file_id: str) -> tuple[bytes, str] | None:
        """An accepted photo's bytes and content type; None if unknown or still pending."""
        try:
            stream = await self.bucket.open_download_stream(file_id)
        except NoFile:
            return None
        meta = stream.metadata or {}
        if meta.get("pending"):
            return None
        return await stream.read(), str(meta.get("content_type", "application/octet-stream"))


async def sweep_loop(
    photos: PhotoStore,
    grace: timedelta,
    interval_s: float,
    stop: asyncio.Event,
    on_deleted: Callable[[int], None] = lambda n: None,
) -> None:
    """Runs `sweep_once` every `interval_s` until `stop` (a runtime loop)."""
    while not stop.is_set():
        try:
            on_deleted(await photos.sweep_once(utcnow() - grace))
        except Exception as exc:
            log.warning("photo sweep failed: %r", exc)
        await wait_any(stop, timeout=interval_s)
