"""Intake's photo rules: the shared sanitiser, its refusals as intake domain errors."""

from __future__ import annotations

from shared import images
from shared.images import CleanPhoto

from .errors import photo_rejected

__all__ = ["CleanPhoto", "sanitize"]


def sanitize(raw: bytes, *, max_pixels: int, thumb_px: int = 320) -> CleanPhoto:
    try:
        return images.sanitize(raw, max_pixels=max_pixels, thumb_px=thumb_px)
    except images.PhotoRejected as exc:
        raise photo_rejected(exc.reason, exc.message) from exc
