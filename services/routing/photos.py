"""Resolution photos in routing's GridFS, sanitised by `shared.images` before they are stored."""

from __future__ import annotations

import uuid

from gridfs import AsyncGridFSBucket
from gridfs.errors import NoFile
from pymongo.asynchronous.database import AsyncDatabase

from services.routing.store import PHOTOS_BUCKET
from shared.mongo import Document


class PhotoStore:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.bucket = AsyncGridFSBucket(db, bucket_name=PHOTOS_BUCKET)

    async def put(self, data: bytes, content_type: str, assignment_id: str) -> str:
        photo_id = uuid.uuid4().hex
        await self.bucket.upload_from_stream_with_id(
            photo_id,
            f"{photo_id}",
            data,
            metadata={"content_type": content_type, "assignment_id": assignment_id},
        )
        return photo_id

    async def get(self, photo_id: str) -> tuple[bytes, str] | None:
        try:
            stream = await self.bucket.open_download_stream(photo_id)
        except NoFile:
            return None
        data = await stream.read()
        meta = stream.metadata or {}
        return data, str(meta.get("content_type", "application/octet-stream"))
