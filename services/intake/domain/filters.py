"""What a listing asks for: the public feed's filters and Open311's request filters."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from shared.events import OPEN_STATUSES, Status

from .errors import InvalidInput
from .report import Report


@dataclass(frozen=True)
class BBox:
    min_lon: float
    min_lat: float
    max_lon: float
    max_lat: float

    def holds(self, lat: float, lon: float) -> bool:
        return self.min_lat <= lat <= self.max_lat and self.min_lon <= lon <= self.max_lon


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

    def __post_init__(self) -> None:
        # a time without a zone is UTC (reports' times are)
        for name in ("created_from", "created_to"):
            at = getattr(self, name)
            if at is not None and at.tzinfo is None:
                object.__setattr__(self, name, at.replace(tzinfo=UTC))

    def admits(self, report: Report) -> bool:
        at = report.created_at
        return (
            (self.status is None or report.status == self.status)
            and (self.category is None or report.category == self.category)
            and (self.agency_id is None or report.agency_id == self.agency_id)
            and (self.bbox is None or self.bbox.holds(report.lat, report.lon))
            and (self.created_from is None or at >= self.created_from)
            and (self.created_to is None or at < self.created_to)
        )


@dataclass(frozen=True)
class FeedSlice:
    """Reports of a feed page, newest first; `resume` is where a read that stopped short of a
    full page would go on (more may follow even though the page is not full)."""

    reports: list[Report]
    resume: tuple[datetime, str] | None = None


@dataclass(frozen=True)
class RequestFilter:
    """Open311 `GET requests`: by ids alone, or by codes, an inclusive creation window and
    open (True) / closed (False) / either (None)."""

    ids: tuple[str, ...] = ()
    codes: tuple[str, ...] = ()
    start: datetime | None = None
    end: datetime | None = None
    open: bool | None = None

    def admits(self, report: Report) -> bool:
        """The criteria besides `ids` (which, when given, are the only one)."""
        at = report.created_at
        return (
            (not self.codes or report.category in self.codes)
            and (self.start is None or at >= self.start)
            and (self.end is None or at <= self.end)
            and (self.open is None or (report.status in OPEN_STATUSES) == self.open)
        )
