"""Reports arriving from intake: `report.created` (route it) and `report.reopened` (route again)."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable

from services.routing.domain.assignment import Action, Actor, Assignment, new_assignment
from services.routing.domain.jurisdiction import choose
from services.routing.usecases.workflow import Workflow
from shared.events import PAYLOADS, ReportAssignedV1, ReportCreatedV1, ReportReopenedV1, Topic
from shared.uow import UnitOfWork

log = logging.getLogger(__name__)

INTAKE = Actor("intake")


def _new_id() -> str:
    return str(uuid.uuid4())


class IncomingReports:
    def __init__(self, work: Workflow, new_id: Callable[[], str] = _new_id) -> None:
        self.work = work
        self.new_id = new_id

    async def created(self, report: ReportCreatedV1, sequence: int, uow: UnitOfWork) -> None:
        """Routes a new report by the rules; a re-announced one (already routed) gets its
        current assignment and latest state re-emitted instead. The sealed contact is dropped."""
        await self.work.jurisdictions.wait_seeded()
        found = await self.work.assignments.by_report(report.report_id, uow.session)
        if found is not None:
            a, rev = found
            await self._reannounce(uow, a)
            a.intake_seq = max(a.intake_seq, sequence)
            await self.work.assignments.save(a, rev, uow.session)
            return
        j = await self.work.jurisdictions.current(uow.session)
        lon, lat = report.location.lon, report.location.lat
        hits = await self.work.jurisdictions.areas_containing(lon, lat)
        decision = choose(j, report.category, hits)
        a = new_assignment(
            assignment_id=self.new_id(),
            report_id=report.report_id,
            category=report.category,
            lon=lon,
            lat=lat,
            agency_id=decision.agency_id,
            at=self.work.clock(),
            deadline=j.deadline(report.category, self.work.default_deadline_hours),
            reason=decision.reason,
            rule_id=decision.rule_id,
            area_id=decision.area_id,
        )
        a.intake_seq = sequence
        await self.work.emit_assigned(uow, a, j)
        # A concurrent delivery that inserted first makes this `ChangedMeanwhile`: the
        # consumer's retry then takes the re-announce path.
        await self.work.assignments.insert(a, uow.session)

    async def _reannounce(self, uow: UnitOfWork, a: Assignment) -> None:
        """Intake still shows `received`: emit the assignment (and its latest state) again."""
        if a.last_assigned:
            await uow.emit(Topic.REPORT_ASSIGNED, a.report_id, ReportAssignedV1(**a.last_assigned))
        if a.last_state:
            topic = a.last_state["topic"]
            payload = PAYLOADS[topic].model_validate(a.last_state["data"])
            await uow.emit(topic, a.report_id, payload)

    async def reopened(self, reopened: ReportReopenedV1, sequence: int, uow: UnitOfWork) -> None:
        """A resident reopened a resolved report: routed again by the rules. Ignored (and
        noted in the history) while it is still open or when older than what was applied."""
        await self.work.jurisdictions.wait_seeded()
        found = await self.work.assignments.by_report(reopened.report_id, uow.session)
        if found is None:
            # Nothing to route again (e.g. intake's created event predates routing's data).
            # The report id is not personal data; the reporter's contact never reaches here.
            log.warning(
                "report.reopened for report %s which routing never saw; ignored",
                reopened.report_id,
                extra={"report_id": reopened.report_id},
            )
            self.work.metrics.unknown_reopens.inc()
            return
        a, rev = found
        why = a.reopen_ignored(sequence)
        if why is not None:
            a.record(Action.ROUTE, INTAKE, self.work.clock(), note=f"reopen ignored: {why}")
            await self.work.assignments.save(a, rev, uow.session)
            return
        await self._route_again(uow, a, reopened, sequence)
        await self.work.assignments.save(a, rev, uow.session)

    async def _route_again(
        self, uow: UnitOfWork, a: Assignment, reopened: ReportReopenedV1, sequence: int
    ) -> None:
        a.intake_seq = sequence
        if reopened.category:
            a.category = reopened.category
        if reopened.location:
            a.lon, a.lat = reopened.location.lon, reopened.location.lat
        j = await self.work.jurisdictions.current(uow.session)
        decision = choose(
            j, a.category, await self.work.jurisdictions.areas_containing(a.lon, a.lat)
        )
        a.move_to(
            decision.agency_id,
            action=Action.ROUTE,
            actor=INTAKE,
            at=self.work.clock(),
            deadline=j.deadline(a.category, self.work.default_deadline_hours),
            reason=decision.reason,
            rule_id=decision.rule_id,
            area_id=decision.area_id,
            note=f"reopened: {reopened.reason}"[:500],
        )
        await self.work.emit_assigned(uow, a, j)
