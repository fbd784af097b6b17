"""Deadlines: one `report.escalated` per breach, and the open / overdue gauges per agency, both
from one read of the open assignments' due times per pass."""

from __future__ import annotations

from datetime import datetime

from services.routing.domain.errors import ChangedMeanwhile
from services.routing.domain.queue import DueTime
from services.routing.usecases.workflow import Workflow
from shared.events import ReportEscalatedV1, Topic
from shared.uow import UnitOfWork, Work


class Deadlines:
    def __init__(self, work: Workflow) -> None:
        self.work = work

    async def check(self) -> int:
        """One pass: sets the gauges, then raises one `report.escalated` per breach; safe with
        several replicas and restarts: the breach mark and the event are written together,
        guarded by the revision. Returns how many were raised."""
        now = self.work.clock()
        due_times = await self.work.assignments.open_due_times()
        self._gauges(due_times, now)
        raised = 0
        for due in due_times:
            if not due.breached(now):
                continue
            try:
                raised += await self.work.transactions.run(self._escalation(due.assignment_id, now))
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

    def _gauges(self, due_times: list[DueTime], now: datetime) -> None:
        """Open and overdue assignments per agency of the jurisdiction in force."""
        opened: dict[str, int] = {}
        overdue: dict[str, int] = {}
        for due in due_times:
            opened[due.agency_id] = opened.get(due.agency_id, 0) + 1
            if due.overdue(now):
                overdue[due.agency_id] = overdue.get(due.agency_id, 0) + 1
        metrics = self.work.metrics
        # Agencies removed by an admin change disappear from the series.
        metrics.open_assignments.clear()
        metrics.overdue_assignments.clear()
        for agency in self.work.jurisdictions.current().agencies:
            metrics.open_assignments.labels(agency.id).set(opened.get(agency.id, 0))
            metrics.overdue_assignments.labels(agency.id).set(overdue.get(agency.id, 0))
