"""What a listing asks for: the public feed's filters and Open311's request filters."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from shared.events import Status

from .errors import InvalidInput


@dataclass(frozen=True)
class BBox:
    min_lon: float
    min_lat: float
    max_lon: float
    max_lat: float


def parse_bbox(text: str) -> BBox:
    """`min_lon,min_lat,max_lon,max_lat`, in range and not inverted."""
    try:
        min_lon, min_lat, max_lon, max_lat = (float(x) for x in text.split(","))
    except ValueError as exc:
        raise InvalidInput("bbox must be min_lon,min_lat,max_lon,max_lat", field="bbox") from exc
    if not (-180 <= min_lon <= max_lon <= 180 and -90 <= min_lat <= max_lat <= 90):
        raise InvalidInput("bbox out of range or inverted", field="bbox")
    return BBox(min_lon, min_lat, max_lon, max_lat)


@dataclass(frozen=True)
class FeedFilter:
    """The public feed: every given criterion must hold; `created_to` is exclusive."""

    status: Status | None = None
    category: str | None = None
    agency_id: str | None = None
    bbox: BBox | None = None
    created_from: datetime | None = None
    created_to: datetime | None = None


@dataclass(frozen=True)
class RequestFilter:
    """Open311 `GET requests`: by ids alone, or by codes, an inclusive creation window and
    open (True) / closed (False) / either (None)."""

    ids: tuple[str, ...] = ()
    codes: tuple[str, ...] = ()
    start: datetime | None = None
    end: datetime | None = None
    open: bool | None = None
