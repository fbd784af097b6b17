"""IOC operators: the triage queue, manual assignment, duplicates and dismissal."""

from __future__ import annotations

from services.routing.domain.assignment import OPEN, Action, Assignment, AState
from services.routing.domain.errors import UnknownReport
from services.routing.domain.jurisdiction import Jurisdiction
from services.routing.domain.queue import QueueFilter, queue_order
from services.routing.usecases.workflow import Workflow, actor_of
from shared.auth import Principal
from shared.events import ReportDuplicateV1, ReportRejectedV1, Topic
from shared.uow import UnitOfWork


class OperatorQueries:
    def __init__(self, work: Workflow) -> None:
        self.work = work

    async def triage(self, limit: int) -> list[Assignment]:
        """The IOC triage queue: open assignments of the fallback agency."""
        j = self.work.jurisdictions.current()
        f = QueueFilter(agency_id=j.fallback_agency, statuses=[s.value for s in OPEN], limit=limit)
        now = self.work.clock()
        return queue_order(await self.work.assignments.query(f, now), now)


class OperatorCommands:
    def __init__(self, work: Workflow) -> None:
        self.work = work

    async def assign(
        self, p: Principal, assignment_id: str, agency_id: str, note: str | None
    ) -> Assignment:
        """By hand to any agency (from triage, or to override the rules), from any status."""
        return await self.work.reassign(p, assignment_id, agency_id, note, Action.ASSIGN)

    async def dismiss(self, p: Principal, assignment_id: str, reason: str) -> Assignment:
        """Spam or not a public matter: `report.rejected`."""

        async def change(uow: UnitOfWork, a: Assignment, j: Jurisdiction) -> None:
            at = self.work.clock()
            a.set_status(Action.DISMISS, AState.REJECTED, actor_of(p), at, reason)
            data = ReportRejectedV1(report_id=a.report_id, reason=reason, by=p.sub, at=at)
            await self.work.emit(uow, Topic.REPORT_REJECTED, a, data)

        return await self.work.command(p, assignment_id, change)

    async def mark_duplicate(self, p: Principal, assignment_id: str, original: str) -> Assignment:
        """This report duplicates `original` (a report id); resolving the original resolves it."""

        async def change(uow: UnitOfWork, a: Assignment, j: Jurisdiction) -> None:
            found = await self.work.assignments.by_report(original, uow.session)
            if found is None:
                raise UnknownReport(f"routing has no report {original!r}")
            orig = found[0]
            # Point at the root so that resolving it resolves the whole group.
            root_id = orig.duplicate_of or orig.report_id
            at = self.work.clock()
            a.mark_duplicate(actor_of(p), at, root_id)
            data = ReportDuplicateV1(report_id=a.report_id, duplicate_of=root_id, at=at)
            await self.work.emit(uow, Topic.REPORT_DUPLICATE, a, data)

        return await self.work.command(p, assignment_id, change)
