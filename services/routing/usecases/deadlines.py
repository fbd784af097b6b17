"""Deadlines: one `report.escalated` per breach, and the open / overdue gauges per agency.

A pass reads the due times of the overdue assignments only (the breaches are among them); the
open gauge needs every open assignment, read once every `open_every`. On the embedded database
that read holds every other command while it runs: about half a second for 3,100 open
assignments, which every pass (30 s) put into the tail of every request's latency."""

from __future__ import annotations

from datetime import datetime, timedelta

from services.routing.domain.errors import ChangedMeanwhile
from services.routing.domain.queue import DueTime
from services.routing.usecases.workflow import Workflow
from shared.events import ReportEscalatedV1, Topic
from shared.uow import UnitOfWork, Work


class Deadlines:
    def __init__(self, work: Workflow, open_every: timedelta = timedelta(minutes=5)) -> None:
        self.work = work
        self.open_every = open_every
        self._open_read_at: datetime | None = None  # the last read of every open assignment

    async def check(self) -> int:
        """One pass: sets the gauges, then raises one `report.escalated` per breach; safe with
        several replicas and restarts: the breach mark and the event are written together,
        guarded by the revision. Returns how many were raised."""
        now = self.work.clock()
        last = self._open_read_at
        every_open = last is None or now - last >= self.open_every or now < last
        if every_open:
            due_times = await self.work.assignments.open_due_times()
            self._open_read_at = now
        else:
            due_times = await self.work.assignments.overdue_due_times(now)
        self._gauges(due_times, now, every_open)
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

    def _gauges(self, due_times: list[DueTime], now: datetime, every_open: bool) -> None:
        """Overdue (and, from a read of every open one, open) assignments per agency of the
        jurisdiction in force."""
        opened: dict[str, int] = {}
        overdue: dict[str, int] = {}
        for due in due_times:
            opened[due.agency_id] = opened.get(due.agency_id, 0) + 1
            if due.overdue(now):
                overdue[due.agency_id] = overdue.get(due.agency_id, 0) + 1
        metrics = self.work.metrics
        # Agencies removed by an admin change disappear from the series.
        if every_open:
            metrics.open_assignments.clear()
        metrics.overdue_assignments.clear()
        for agency in self.work.jurisdictions.current().agencies:
            if every_open:
                metrics.open_assignments.labels(agency.id).set(opened.get(agency.id, 0))
            metrics.overdue_assignments.labels(agency.id).set(overdue.get(agency.id, 0))
