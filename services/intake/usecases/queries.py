"""Read-only use cases: the catalogue, a report, the public feed, nearby reports, photos."""

from __future__ import annotations

from dataclasses import dataclass

from services.intake.domain.catalog import Catalog
from services.intake.domain.errors import CatalogUnavailable, InvalidInput, NotFound
from services.intake.domain.filters import FeedFilter
from services.intake.domain.paging import decode_cursor, encode_cursor
from services.intake.domain.report import Nearby, Report
from services.intake.domain.rules import check_token, valid_id, with_distances
from shared.uow import Session

from .ports import CatalogCopies, Photos, Reports


@dataclass(frozen=True)
class FeedPage:
    reports: list[Report]
    next_cursor: str | None


@dataclass(frozen=True)
class PhotoFile:
    data: bytes
    content_type: str


async def existing(reports: Reports, report_id: str, session: Session = None) -> Report:
    """The report, or `NotFound`."""
    report = await reports.get(report_id, session)
    if report is None:
        raise NotFound(f"report {report_id} not found")
    return report


class Queries:
    def __init__(
        self,
        reports: Reports,
        catalog: CatalogCopies,
        photos: Photos,
        *,
        nearby_max_radius_m: float,
    ) -> None:
        self.reports = reports
        self.catalog_copy = catalog
        self.photos = photos
        self.nearby_max_radius_m = nearby_max_radius_m

    async def catalog(self) -> Catalog:
        data = await self.catalog_copy.current()  # from memory while fresh
        if data is None:
            raise CatalogUnavailable(
                "the category catalogue has not reached intake yet (routing publishes it on "
                "jurisdiction.catalog); retry shortly"
            )
        return Catalog(data)

    async def get(self, report_id: str) -> Report:
        return await existing(self.reports, report_id)

    async def tracked(self, report_id: str, token: str | None) -> Report:
        """The report, to the holder of its tracking token only."""
        report = await self.get(report_id)
        check_token(token, report.token_hash)
        return report

    async def nearby(
        self, lat: float, lon: float, radius_m: float, category: str | None
    ) -> list[Nearby]:
        if radius_m > self.nearby_max_radius_m:
            raise InvalidInput(
                f"radius_m is capped at {self.nearby_max_radius_m:g}", field="radius_m"
            )
        return with_distances(lat, lon, await self.reports.nearby(lat, lon, radius_m, category, 50))

    async def feed(self, where: FeedFilter, cursor: str | None, limit: int) -> FeedPage:
        """Newest first; `next_cursor` continues after the last report when there are more (a
        page whose filter kept few of the reports read may be short and still have one)."""
        after = decode_cursor(cursor) if cursor else None
        found = await self.reports.feed(where, limit + 1, after)
        page = found.reports[:limit]
        nxt = None
        if len(found.reports) > limit and page:
            nxt = encode_cursor(page[-1].created_at, page[-1].id)
        elif found.resume is not None:
            nxt = encode_cursor(*found.resume)
        return FeedPage(page, nxt)

    async def photo(self, file_id: str) -> PhotoFile:
        found = await self.photos.get(file_id) if valid_id(file_id) else None
        if found is None:  # unknown, or still pending (its report was never committed, or not yet)
            raise NotFound("photo not found")
        return PhotoFile(*found)
