"""What Open311 GeoReport v2 clients (FixMyStreet and the like) may do: create requests with an
api_key, list them, and poll their status updates (mySociety's extension)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from services.intake.domain.errors import Forbidden, InvalidInput
from services.intake.domain.filters import RequestFilter
from services.intake.domain.report import Report, ReportDraft
from services.intake.domain.updates import Update, in_window

from .create import Created, FileReport
from .ports import Reports
from .queries import Queries


class Open311:
    def __init__(
        self,
        file_report: FileReport,
        queries: Queries,
        reports: Reports,
        *,
        api_keys: frozenset[str],
        max_page_size: int,
        max_updates: int,
    ) -> None:
        self.file_report = file_report
        self.queries = queries
        self.reports = reports
        self.api_keys = api_keys
        self.max_page_size = max_page_size
        self.max_updates = max_updates

    @property
    def base_url(self) -> str:
        """`PUBLIC_BASE_URL`: the only base of the absolute links Open311 answers carry."""
        return self.file_report.base_url

    def authorize(self, api_key: str) -> None:
        if not api_key or api_key not in self.api_keys:
            raise Forbidden("a valid api_key is required to create a request")

    async def create(
        self, draft: ReportDraft, *, idempotency_key: str | None, client: str
    ) -> Created:
        """Like the resident API's create, except that `attribute[...]` answers the service
        does not define are dropped: real clients send extra ones (FixMyStreet adds cobrand
        fields such as `fixmystreet_id`, `easting`, `report_url`). Required attributes are
        still checked."""
        catalog = await self.queries.catalog()
        draft = replace(draft, attributes=catalog.defined_attributes(draft.code, draft.attributes))
        return await self.file_report(
            draft, channel="open311", idempotency_key=idempotency_key, client=client
        )

    async def requests(self, where: RequestFilter, page: int, size: int) -> list[Report]:
        """Newest first, `size` per page (pages from 1)."""
        return await self.reports.page(where, (page - 1) * size, size)

    async def updates(self, start: datetime, end: datetime, lang: str) -> list[Update]:
        """Every timeline entry recorded in [start, end], at most `max_updates` of them."""
        cap = self.max_updates
        found = await self.reports.timelines_in(start, end, cap + 1)
        updates = in_window(found, lang, start, end)
        if len(found) > cap or len(updates) > cap:
            raise InvalidInput(
                f"more than {cap} updates between start_date and end_date: ask a shorter window"
            )
        return updates
