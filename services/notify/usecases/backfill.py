"""A newer catalogue tells agencies of the assignments they could not be told of."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from services.notify.domain.catalog import Directory
from services.notify.domain.model import Audience, Lease
from services.notify.domain.planning import renamed
from services.notify.domain.rules import agency_addresses, latest_assignment_entries, still_waits
from services.notify.usecases.ports import Deliveries, Reports
from services.notify.usecases.recording import Planned, Recorded, Recorder
from shared.uow import Session


class Backfill:
    def __init__(
        self,
        reports: Reports,
        deliveries: Deliveries,
        recorder: Recorder,
        clock: Callable[[], datetime],
        hours: float,
    ) -> None:
        self.reports = reports
        self.deliveries = deliveries
        self.recorder = recorder
        self.clock = clock
        self.hours = hours

    async def run(
        self, directory: Directory, event_id: str, session: Session, lease: Lease | None = None
    ) -> Recorded:
        """Tells agencies of the assignments they could not be told of (no catalogue yet, or no
        contacts in it) in the last `hours`, now that `directory` reaches them.

        Only a report's latest assignment, and only while the report still waits with that
        agency (`assigned`); the deliveries get the ids the assignment would have given them,
        so a catalogue arriving again creates nothing more. Counted under `event_id`.
        """
        if self.hours <= 0:
            return Recorded()
        since = self.clock() - timedelta(hours=self.hours)
        reachable = []
        for entry in await self.deliveries.unreachable_assignments(since, session):
            agency = directory.agencies.get(entry.recipient_id)
            addresses = agency_addresses(agency)
            if addresses:  # still nobody to reach: a later catalogue may
                reachable.append((entry, agency, addresses))
        if not reachable:
            return Recorded()
        report_ids = list(dict.fromkeys(entry.news.report_id for entry, _, _ in reachable))
        views = await self.reports.load_many(report_ids, session)
        latest = latest_assignment_entries(await self.deliveries.of_reports(report_ids, session))
        planned: list[Planned] = []
        for entry, agency, addresses in reachable:
            report_id = entry.news.report_id
            if not still_waits(entry, latest.get(report_id), views[report_id]):
                continue  # re-routed, taken up or finished since: the news is stale
            audience = Audience(entry.recipient_kind, entry.recipient_id, entry.language, addresses)
            news = renamed(entry.news, agency, directory, entry.language)
            planned.append(Planned(event_id, news, audience, list(addresses)))
        recorded = await self.recorder.record(planned, session, lease)
        await self.deliveries.mark_reachable([entry.id for entry, _, _ in reachable], session)
        return recorded
