"""Photo sanitising for every service that accepts photos: type by content (JPEG, PNG, WebP),
decompression bombs refused, orientation applied, all metadata (EXIF, GPS, XMP, ICC, text
chunks) dropped by re-encoding the pixels into a fresh file, thumbnail made."""

from __future__ import annotations

import contextlib
import io
import threading
import warnings
from collections.abc import Iterator
from dataclasses import dataclass

from PIL import Image, ImageOps, UnidentifiedImageError


class PhotoRejected(ValueError):
    """`reason` is a bounded label (a metric label too): bad_type, bomb, corrupt."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


ALLOWED = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}


@dataclass(frozen=True)
class CleanPhoto:
    content_type: str
    data: bytes
    thumb: bytes
    width: int
    height: int


class PixelBudget:
    """Bounds the pixels being decoded at once in this process (a decoded pixel costs about 4
    bytes, and transposing and re-encoding hold two or three copies). A decode waits while the
    budget is taken; one image alone may use all of it."""

    def __init__(self, pixels: int) -> None:
        self.pixels = pixels
        self.in_flight = 0
        self._cond = threading.Condition()

    @contextlib.contextmanager
    def hold(self, pixels: int) -> Iterator[None]:
        with self._cond:
            self._cond.wait_for(
                lambda: self.in_flight == 0 or self.in_flight + pixels <= self.pixels
            )
            self.in_flight += pixels
        try:
            yield
        finally:
            with self._cond:
                self.in_flight -= pixels
                self._cond.notify_all()


# 48 Mpx at once: one maximal photo (40 Mpx) or several phone-sized ones (12 Mpx) per process.
DECODE_BUDGET = PixelBudget(48_000_000)


def sanitize(
    raw: bytes, *, max_pixels: int, thumb_px: int = 320, budget: PixelBudget = DECODE_BUDGET
) -> CleanPhoto:
    if not raw:
        raise PhotoRejected("bad_type", "empty file")
    width, height = _declared_size(raw, max_pixels)
    with budget.hold(width * height):
        return _sanitize(raw, max_pixels, thumb_px)


def _declared_size(raw: bytes, max_pixels: int) -> tuple[int, int]:
    """The size the header declares, read without decoding the pixels."""
    try:
        with Image.open(io.BytesIO(raw), formats=list(ALLOWED)) as img:
            width, height = img.size
    except UnidentifiedImageError as exc:
        if _looks_allowed(raw):
            raise PhotoRejected("corrupt", "the image could not be decoded") from exc
        raise PhotoRejected("bad_type", "only JPEG, PNG and WebP images are accepted") from exc
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise PhotoRejected("bomb", "image refused as a decompression bomb") from exc
    except (OSError, ValueError, SyntaxError) as exc:
        raise PhotoRejected("corrupt", "the image could not be decoded") from exc
    if width * height > max_pixels:
        raise PhotoRejected("bomb", f"image too large: {width}x{height} pixels")
    return width, height


def _sanitize(raw: bytes, max_pixels: int, thumb_px: int) -> CleanPhoto:
    try:
        with warnings.catch_warnings():
            # Pillow warns above MAX_IMAGE_PIXELS and raises above twice that; we refuse both.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(raw), formats=list(ALLOWED))
            fmt = str(img.format)
            width, height = img.size
            if width * height > max_pixels:
                raise PhotoRejected("bomb", f"image too large: {width}x{height} pixels")
            img.load()
    except PhotoRejected:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise PhotoRejected("bomb", "image refused as a decompression bomb") from exc
    except UnidentifiedImageError as exc:
        if _looks_allowed(raw):  # the right signature, but the rest does not decode
            raise PhotoRejected("corrupt", "the image could not be decoded") from exc
        raise PhotoRejected("bad_type", "only JPEG, PNG and WebP images are accepted") from exc
    except (OSError, ValueError, SyntaxError) as exc:
        raise PhotoRejected("corrupt", "the image could not be decoded") from exc
    upright = ImageOps.exif_transpose(img) or img
    clean = _pixels_only(upright, fmt)
    thumb = clean.copy()
    thumb.thumbnail((thumb_px, thumb_px))
    return CleanPhoto(
        content_type=ALLOWED[fmt],
        data=_encode(clean, fmt),
        thumb=_encode(thumb, fmt),
        width=clean.width,
        height=clean.height,
    )


def _looks_allowed(raw: bytes) -> bool:
    return raw.startswith((b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n")) or (
        raw[:4] == b"RIFF" and raw[8:12] == b"WEBP"
    )


def _pixels_only(img: Image.Image, fmt: str) -> Image.Image:
    """A new image holding only the pixels: no EXIF, GPS, XMP, ICC or text chunks survive."""
    mode = img.mode
    if fmt == "JPEG" and mode not in ("RGB", "L"):
        mode = "RGB"
    elif mode not in ("RGB", "RGBA", "L", "LA"):
        mode = "RGBA" if "transparency" in img.info or img.mode in ("PA", "P") else "RGB"
    src = img.convert(mode) if img.mode != mode else img
    fresh = Image.new(mode, src.size)
    fresh.paste(src)
    return fresh


def _encode(img: Image.Image, fmt: str) -> bytes:
    out = io.BytesIO()
    if fmt == "JPEG":
        img.save(out, format="JPEG", quality=85, optimize=True)
    elif fmt == "WEBP":
        img.save(out, format="WEBP", quality=85)
    else:
        img.save(out, format="PNG", optimize=True)
    return out.getvalue()
