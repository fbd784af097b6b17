"""Resolution photos in routing's GridFS: type sniffed from the bytes, size capped."""

from __future__ import annotations

import uuid

from gridfs import AsyncGridFSBucket
from gridfs.errors import NoFile
from pymongo.asynchronous.database import AsyncDatabase

from services.routing.store import PHOTOS_BUCKET
from shared.mongo import Document


def sniff(head: bytes) -> str | None:
    """The image type from its magic bytes (JPEG, PNG, WebP), whatever the client claimed."""
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if len(head) >= 12 and head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    return None


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
