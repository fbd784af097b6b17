"""Resolution photos in routing's GridFS: type sniffed from the bytes, size capped, pixels
capped (decompression bombs), orientation applied and every metadata (EXIF, GPS) dropped by
re-encoding."""

from __future__ import annotations

import io
import uuid
import warnings

from gridfs import AsyncGridFSBucket
from gridfs.errors import NoFile
from PIL import Image, ImageOps
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


MAX_PIXELS = 40_000_000
_FORMATS = {"image/jpeg": "JPEG", "image/png": "PNG", "image/webp": "WEBP"}


class BadImage(ValueError):
    pass


def clean(data: bytes, content_type: str) -> bytes:
    """Decodes and re-encodes the image: upright, no metadata. Raises `BadImage`."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(data))
            if img.width * img.height > MAX_PIXELS:
                raise BadImage("image has too many pixels")
            img.load()
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombWarning) as exc:
        if isinstance(exc, BadImage):
            raise
        raise BadImage(f"not a readable image: {exc}") from exc
    upright = ImageOps.exif_transpose(img) or img
    if content_type == "image/jpeg" and upright.mode not in ("RGB", "L"):
        upright = upright.convert("RGB")
    out = io.BytesIO()
    upright.save(out, format=_FORMATS[content_type])  # no exif= / pnginfo=: metadata dropped
    return out.getvalue()


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
