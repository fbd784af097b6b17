"""Staff of an agency (operators too): their queue, and accept, start, reject, transfer, resolve."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from services.routing.domain.assignment import Action, Assignment, AState
from services.routing.domain.jurisdiction import Jurisdiction
from services.routing.domain.queue import QueueFilter, queue_order
from services.routing.usecases.photos import ResolutionPhotos
from services.routing.usecases.workflow import Workflow, actor_of
from shared.auth import Principal
from shared.events import ReportAcceptedV1, ReportResolvedV1, Topic
from shared.uow import UnitOfWork


def _progress(a: Assignment, note: str | None, at: datetime) -> ReportAcceptedV1:
    return ReportAcceptedV1(
        report_id=a.report_id, assignment_id=a.id, agency_id=a.agency_id, note=note, at=at
    )


def _resolved(
    a: Assignment, urls: list[str], at: datetime, on_time: bool | None = None
) -> ReportResolvedV1:
    return ReportResolvedV1(
        report_id=a.report_id,
        assignment_id=a.id,
        agency_id=a.agency_id,
        note=a.note or "",
        photo_urls=urls,
        resolved_at=at,
        on_time=on_time,
    )


class StaffQueries:
    def __init__(self, work: Workflow) -> None:
        self.work = work

    async def get(self, p: Principal, assignment_id: str) -> Assignment:
        return await self.work.visible(p, assignment_id)

    async def queue(self, p: Principal, f: QueueFilter) -> list[Assignment]:
        """The caller's agency's assignments (operators: any agency, or `f.agency_id`),
        overdue first, then by due time."""
        if not p.has("operator"):
            f = replace(f, agency_id=p.agency_id or "-")
        now = self.work.clock()
        return queue_order(await self.work.assignments.query(f, now), now)


class StaffCommands:
    def __init__(self, work: Workflow, photos: ResolutionPhotos) -> None:
        self.work = work
        self.photos = photos

    async def accept(self, p: Principal, assignment_id: str, note: str | None) -> Assignment:
        """Acknowledged: `report.accepted` (the public status stays `assigned`)."""
        return await self._progress(p, assignment_id, note, Action.ACCEPT)

    async def start(self, p: Principal, assignment_id: str, note: str | None) -> Assignment:
        """Work started: `report.in_progress`."""
        return await self._progress(p, assignment_id, note, Action.START)

    async def _progress(
        self, p: Principal, assignment_id: str, note: str | None, action: Action
    ) -> Assignment:
        status, topic = {
            Action.ACCEPT: (AState.ACCEPTED, Topic.REPORT_ACCEPTED),
            Action.START: (AState.IN_PROGRESS, Topic.REPORT_IN_PROGRESS),
        }[action]

        async def change(uow: UnitOfWork, a: Assignment, j: Jurisdiction) -> None:
            at = self.work.clock()
            a.set_status(action, status, actor_of(p), at, note)
            await self.work.emit(uow, topic, a, _progress(a, note, at))

        return await self.work.command(p, assignment_id, change)

    async def reject(self, p: Principal, assignment_id: str, reason: str) -> Assignment:
        """Not ours: the next agency by the rules that has not rejected it, else the IOC."""

        async def change(uow: UnitOfWork, a: Assignment, j: Jurisdiction) -> None:
            hits = self.work.jurisdictions.areas_containing(a.lon, a.lat)
            at = self.work.clock()
            a.reject_by_agency(
                actor_of(p),
                at,
                reason,
                jurisdiction=j,
                hits=hits,
                due=self.work.due_for(j, a.category, at),
            )
            await self.work.emit_assigned(uow, a, j)

        return await self.work.command(p, assignment_id, change)

    async def transfer(
        self, p: Principal, assignment_id: str, agency_id: str, note: str | None
    ) -> Assignment:
        """To another agency: `report.assigned` with reason `transfer`."""
        return await self.work.reassign(p, assignment_id, agency_id, note, Action.TRANSFER)

    async def resolve(
        self, p: Principal, assignment_id: str, note: str, photos: Sequence[bytes] = ()
    ) -> Assignment:
        """Resolves it, and every report marked as its duplicate. The photos are stored
        pending first, confirmed in the resolve's unit of work, discarded if it is refused."""
        ids = await self.photos.stage(assignment_id, photos)

        async def change(uow: UnitOfWork, a: Assignment, j: Jurisdiction) -> None:
            at = self.work.clock()
            on_time = a.resolve(actor_of(p), at, note, ids)
            await self.photos.confirm(ids, uow.session)
            urls = [self.photos.url(i) for i in ids]
            await self.work.emit(uow, Topic.REPORT_RESOLVED, a, _resolved(a, urls, at, on_time))
            group = await self.work.assignments.duplicates_of(a.report_id, uow.session)
            for dup, _ in group:
                dup.resolve_with(a, actor_of(p), at)
                await self.work.emit(uow, Topic.REPORT_RESOLVED, dup, _resolved(dup, urls, at))
            await self.work.assignments.save_many(group, uow.session)

        try:
            return await self.work.command(p, assignment_id, change)
        except BaseException:
            await self.photos.discard(ids)
            raise
