"""Photo sanitising on generated images: metadata gone, orientation applied, bad input refused."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from services.intake.domain.errors import PhotoRejected
from services.intake.domain.photos import sanitize

MAX = 40_000_000


RED, BLUE = (200, 30, 30), (30, 30, 200)


def jpeg_with_gps(
    size: tuple[int, int] = (64, 32), orientation: int | None = None, two_tone: bool = False
) -> bytes:
    """A JPEG carrying GPS EXIF; `two_tone`: left half red, right half blue (so a rotation is
    observable)."""
    img = Image.new("RGB", size, RED)
    if two_tone:
        img.paste(BLUE, (size[0] // 2, 0, size[0], size[1]))
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2], gps[3], gps[4] = "N", (16.0, 27.0, 49.0), "E", (107.0, 35.0, 27.0)
    if orientation:
        exif[0x0112] = orientation
    out = io.BytesIO()
    img.save(out, format="JPEG", exif=exif)
    return out.getvalue()


def test_jpeg_with_gps_comes_back_with_no_exif_at_all() -> None:
    raw = jpeg_with_gps()
    assert Image.open(io.BytesIO(raw)).getexif()  # the fixture really carries EXIF
    clean = Image.open(io.BytesIO(sanitize(raw, max_pixels=MAX).data))
    assert not clean.getexif()
    assert "exif" not in clean.info


def _near(pixel: object, colour: tuple[int, int, int]) -> bool:
    assert isinstance(pixel, tuple)
    return all(abs(a - b) < 40 for a, b in zip(pixel, colour, strict=True))


def test_orientation_is_applied_to_the_pixels() -> None:
    """EXIF orientation 6 means "rotate 90° clockwise to display": the left (red) half ends on
    top, the right (blue) half at the bottom, and no orientation tag is left to apply twice."""
    raw = jpeg_with_gps((64, 32), orientation=6, two_tone=True)
    photo = sanitize(raw, max_pixels=MAX)
    clean = Image.open(io.BytesIO(photo.data)).convert("RGB")
    assert (photo.width, photo.height) == clean.size == (32, 64)
    assert _near(clean.getpixel((16, 12)), RED)
    assert _near(clean.getpixel((16, 52)), BLUE)
    assert 0x0112 not in clean.getexif()


def test_thumbnail_is_made_within_the_size() -> None:
    photo = sanitize(jpeg_with_gps((1000, 500)), max_pixels=MAX, thumb_px=100)
    assert Image.open(io.BytesIO(photo.thumb)).size == (100, 50)


def test_png_stays_png_without_text_chunks() -> None:
    from PIL import PngImagePlugin

    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", "secret location")
    out = io.BytesIO()
    Image.new("RGBA", (10, 10)).save(out, format="PNG", pnginfo=info)
    photo = sanitize(out.getvalue(), max_pixels=MAX)
    assert photo.content_type == "image/png"
    assert b"secret location" not in photo.data


def test_decompression_bomb_is_refused() -> None:
    out = io.BytesIO()
    Image.new("1", (10_000, 10_000)).save(out, format="PNG")  # tiny file, 100 Mpx
    with pytest.raises(PhotoRejected) as err:
        sanitize(out.getvalue(), max_pixels=MAX)
    assert err.value.reason == "bomb"


def test_non_image_is_refused() -> None:
    with pytest.raises(PhotoRejected) as err:
        sanitize(b"%PDF-1.4 not an image", max_pixels=MAX)
    assert err.value.reason == "bad_type"


def test_gif_is_refused_even_though_pillow_reads_it() -> None:
    out = io.BytesIO()
    Image.new("P", (4, 4)).save(out, format="GIF")
    with pytest.raises(PhotoRejected):
        sanitize(out.getvalue(), max_pixels=MAX)


def test_truncated_image_with_a_valid_signature_is_refused_as_corrupt() -> None:
    with pytest.raises(PhotoRejected) as err:
        sanitize(b"\x89PNG\r\n\x1a\n" + b"\x00" * 32, max_pixels=MAX)
    assert err.value.reason == "corrupt"
