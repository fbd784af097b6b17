"""Resolution photos: sanitised, stored pending before the resolve, confirmed inside it."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from services.routing.domain.errors import InvalidImage, NoSuchPhoto, UnsupportedPhoto
from services.routing.usecases.ports import PhotoStore
from shared.images import PhotoRejected, sanitize
from shared.uow import Session


class ResolutionPhotos:
    def __init__(self, store: PhotoStore, *, max_pixels: int, public_base_url: str) -> None:
        self.store = store
        self.max_pixels = max_pixels
        self.base = public_base_url.rstrip("/")

    def url(self, photo_id: str) -> str:
        return f"{self.base}/api/v1/photos/{photo_id}"

    async def stage(self, owner: str, uploads: Sequence[bytes]) -> list[str]:
        """Sanitises every upload (refusing the lot if one is refused), then stores each one
        pending for `owner`; a failure part-way discards what was stored."""
        cleaned = [await self._clean(raw) for raw in uploads]
        ids: list[str] = []
        try:
            for photo in cleaned:
                ids.append(await self.store.put_pending(photo[0], photo[1], owner))
        except BaseException:
            await self.store.discard(ids)
            raise
        return ids

    async def _clean(self, raw: bytes) -> tuple[bytes, str]:
        try:
            photo = await asyncio.to_thread(sanitize, raw, max_pixels=self.max_pixels)
        except PhotoRejected as exc:
            if exc.reason == "bad_type":
                raise UnsupportedPhoto(exc.message) from exc
            raise InvalidImage(exc.message) from exc
        return photo.data, photo.content_type

    async def confirm(self, ids: Sequence[str], session: Session) -> None:
        await self.store.confirm(ids, session)

    async def discard(self, ids: Sequence[str]) -> None:
        await self.store.discard(ids)

    async def get(self, photo_id: str) -> tuple[bytes, str]:
        """An accepted photo and its content type (never a pending one)."""
        found = await self.store.get(photo_id)
        if found is None:
            raise NoSuchPhoto()
        return found
