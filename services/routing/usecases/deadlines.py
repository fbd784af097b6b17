"""Deadlines: one `report.escalated` per breach, and the open / overdue gauges per agency."""

from __future__ import annotations

from datetime import datetime

from services.routing.domain.errors import ChangedMeanwhile
from services.routing.usecases.workflow import Workflow
from shared.events import ReportEscalatedV1, Topic
from shared.uow import UnitOfWork, Work


class Deadlines:
    def __init__(self, work: Workflow) -> None:
        self.work = work

    async def check(self) -> int:
        """Raises one `report.escalated` per breach; safe with several replicas and restarts:
        the breach mark and the event are written together, guarded by the revision."""
        now = self.work.clock()
        raised = 0
        for assignment_id in await self.work.assignments.overdue_ids(now):
            try:
                raised += await self.work.transactions.run(self._escalation(assignment_id, now))
            except ChangedMeanwhile:
                continue  # another replica or request changed it first
        if raised:
            self.work.metrics.escalations.inc(raised)
        return raised

    def _escalation(self, assignment_id: str, now: datetime) -> Work[bool]:
        async def escalate(uow: UnitOfWork) -> bool:
            found = await self.work.assignments.get(assignment_id, uow.session)
            if found is None or not found[0].breached(now):
                return False
            a, rev = found
            level = a.escalate(now)
            data = ReportEscalatedV1(
                report_id=a.report_id,
                assignment_id=a.id,
                agency_id=a.agency_id,
                due_at=a.due_at,
                at=now,
                level=level,
            )
            await self.work.emit(uow, Topic.REPORT_ESCALATED, a, data)
            await self.work.assignments.save(a, rev, uow.session)
            return True

        return escalate

    async def refresh_gauges(self) -> None:
        """Open and overdue assignments per agency of the jurisdiction in force."""
        j = await self.work.jurisdictions.current()
        opened, overdue = await self.work.assignments.open_counts(self.work.clock())
        metrics = self.work.metrics
        # Agencies removed by an admin change disappear from the series.
        metrics.open_assignments.clear()
        metrics.overdue_assignments.clear()
        for agency in j.agencies:
            metrics.open_assignments.labels(agency.id).set(opened.get(agency.id, 0))
            metrics.overdue_assignments.labels(agency.id).set(overdue.get(agency.id, 0))
