"""IOC operators: the triage queue, manual assignment, recategorizing, duplicates, dismissal."""

from __future__ import annotations

from services.routing.domain.assignment import OPEN, Action, Assignment, AState
from services.routing.domain.errors import UnknownCategory, UnknownReport
from services.routing.domain.jurisdiction import Jurisdiction
from services.routing.domain.queue import QueueFilter, queue_order
from services.routing.usecases.workflow import Workflow, actor_of
from shared.auth import Principal
from shared.events import ReportDuplicateV1, ReportRecategorizedV1, ReportRejectedV1, Topic
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

    async def recategorize(
        self, p: Principal, assignment_id: str, category: str, note: str | None
    ) -> Assignment:
        """The category was wrong: changed and re-routed by the new category's rules;
        `report.recategorized` (what the category model learns from), then `report.assigned`
        (reason `reroute`), in one unit of work."""

        async def change(uow: UnitOfWork, a: Assignment, j: Jurisdiction) -> None:
            cat = j.category(category)
            if cat is None or not cat.active:
                raise UnknownCategory(f"no active category {category!r}")
            at = self.work.clock()
            hits = self.work.jurisdictions.areas_containing(a.lon, a.lat)
            due = self.work.due_for(j, category, at)
            previous = a.recategorize(
                category, actor_of(p), at, note, jurisdiction=j, hits=hits, due=due
            )
            data = ReportRecategorizedV1(
                report_id=a.report_id,
                previous_category=previous,
                category=category,
                by=p.sub,
                reason=note,
                at=at,
            )
            await self.work.send(uow, Topic.REPORT_RECATEGORIZED, a, data)
            await self.work.emit_assigned(uow, a, j)

        return await self.work.command(p, assignment_id, change)

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
