"""What every assignment use case shares: the jurisdiction in force (in memory), who may see
what, the load-change-save command, and emitting a report's events (each with the sequence kept
in its assignment, remembered for re-announcing)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path
from typing import Protocol

from pydantic import BaseModel

from services.routing.domain.areas import AreaIndex
from services.routing.domain.assignment import Action, Actor, Assignment, DueFor
from services.routing.domain.closures import Closures
from services.routing.domain.errors import InvalidTransition, NoSuchAssignment, UnknownAgency
from services.routing.domain.jurisdiction import AreaHit, Jurisdiction, parse
from services.routing.metrics import RoutingMetrics
from services.routing.usecases.ports import AssignmentStore, JurisdictionStore
from shared.auth import Principal
from shared.events import ReportAssignedV1, Topic
from shared.uow import Session, Transactions, UnitOfWork

Clock = Callable[[], datetime]
# A command's change, applied to the loaded assignment inside the unit of work.
Change = Callable[[UnitOfWork, Assignment, Jurisdiction], Awaitable[None]]


def actor_of(p: Principal) -> Actor:
    return Actor(p.sub, p.agency_id)


def visible_to(p: Principal, a: Assignment) -> bool:
    """Operators and admins see every agency; staff only their own agency's assignments."""
    if p.has("operator") or p.has("admin"):
        return True
    return p.has("staff") and p.agency_id is not None and p.agency_id == a.agency_id


class Jurisdictions:
    """The jurisdiction in force, held in memory with its areas (nothing on the path of a
    report reads it from the database): the seed file until the first start has stored or
    found the stored one (`seeded` is then set), then what this process stored or read.
    Another replica's change is picked up by `refresh` (the maintenance loop's pace)."""

    def __init__(self, store: JurisdictionStore, seed_file: Path) -> None:
        self.store = store
        self.seed_file = seed_file
        self.seeded = asyncio.Event()
        self._seed: Jurisdiction | None = None
        self._held: tuple[Jurisdiction, AreaIndex] | None = None
        self._closures = Closures()

    def seed(self) -> Jurisdiction:
        if self._seed is None:
            self._seed = parse(json.loads(self.seed_file.read_text(encoding="utf-8")))
        return self._seed

    def _in_force(self) -> tuple[Jurisdiction, AreaIndex]:
        if self._held is None:
            self.hold(self.seed())
        assert self._held is not None
        return self._held

    def current(self) -> Jurisdiction:
        return self._in_force()[0]

    def areas_containing(self, lon: float, lat: float) -> list[AreaHit]:
        return self._in_force()[1].containing(lon, lat)

    def hold(self, j: Jurisdiction) -> None:
        """`j` is in force from now on (it was committed, or read from the database)."""
        if self._held is None or self._held[0] is not j:
            self._held = (j, AreaIndex(j.areas))

    def closures(self) -> Closures:
        """The admin's closure days in force (held like the document, refreshed with it)."""
        return self._closures

    def hold_closures(self, closures: Closures) -> None:
        self._closures = closures

    async def refresh(self) -> Jurisdiction:
        """Holds the stored document and closure days if their versions differ from the ones
        held (one small read; the whole document, or the closures, only when they changed)."""
        stamp = await self.store.stamp()
        if stamp is None:
            return self.current()
        version, closures_version = stamp
        if version != self.current().version:
            stored = await self.store.current()
            if stored is not None:
                self.hold(stored)
        if closures_version != self._closures.version:
            self.hold_closures(await self.store.closures())
        return self.current()

    async def wait_seeded(self, timeout: float = 20.0) -> None:
        """Raises after `timeout` (the consumer retries) rather than route with no areas."""
        await asyncio.wait_for(self.seeded.wait(), timeout=timeout)


class Emitter(Protocol):
    """What emitting needs of a unit of work (`UnitOfWork`, or a draft of one)."""

    async def emit(
        self, topic: str, subject: str, payload: BaseModel, *, sequence: int | None = None
    ) -> object: ...

    def after_commit(self, callback: Callable[[], None]) -> None: ...


class Workflow:
    def __init__(
        self,
        *,
        transactions: Transactions,
        assignments: AssignmentStore,
        jurisdictions: Jurisdictions,
        metrics: RoutingMetrics,
        clock: Clock,
        default_deadline_hours: int,
    ) -> None:
        self.transactions = transactions
        self.assignments = assignments
        self.jurisdictions = jurisdictions
        self.metrics = metrics
        self.clock = clock
        self.default_deadline_hours = default_deadline_hours

    async def visible(
        self, p: Principal, assignment_id: str, session: Session = None
    ) -> Assignment:
        """The assignment if the caller may see it; `NoSuchAssignment` otherwise."""
        found = await self.assignments.get(assignment_id, session)
        if found is None or not visible_to(p, found[0]):
            raise NoSuchAssignment()
        return found[0]

    async def command(self, p: Principal, assignment_id: str, change: Change) -> Assignment:
        """Loads the assignment the caller may see, applies `change`, saves it (revision
        guard: `ChangedMeanwhile`) and commits with the events `change` emitted."""
        await self.jurisdictions.wait_seeded()  # the stored jurisdiction, not the seed file

        async def work(uow: UnitOfWork) -> Assignment:
            found = await self.assignments.get(assignment_id, uow.session)
            if found is None or not visible_to(p, found[0]):
                raise NoSuchAssignment()
            a, rev = found
            await change(uow, a, self.jurisdictions.current())
            await self.assignments.save(a, rev, uow.session)
            return a

        return await self.transactions.run(work)

    def due_for(self, j: Jurisdiction, category: str, at: datetime) -> DueFor:
        """When a report of `category` assigned at `at` falls due, by the agency's clock."""

        def due(agency_id: str) -> datetime:
            closures = self.jurisdictions.closures()
            return j.due_at(category, agency_id, at, self.default_deadline_hours, closures)

        return due

    async def reassign(
        self, p: Principal, assignment_id: str, agency_id: str, note: str | None, action: Action
    ) -> Assignment:
        """By hand to `agency_id`: a transfer (staff) or a manual assignment (operator)."""
        reason = "transfer" if action == Action.TRANSFER else "manual"

        async def change(uow: UnitOfWork, a: Assignment, j: Jurisdiction) -> None:
            if j.agency(agency_id) is None:
                raise UnknownAgency(f"no agency {agency_id!r}")
            if agency_id == a.agency_id and a.is_open():
                raise InvalidTransition("already assigned to that agency")
            at = self.clock()
            a.move_to(
                agency_id,
                action=action,
                actor=actor_of(p),
                at=at,
                due_at=self.due_for(j, a.category, at)(agency_id),
                reason=reason,
                note=note,
            )
            await self.emit_assigned(uow, a, j)

        return await self.command(p, assignment_id, change)

    async def send(self, uow: Emitter, topic: str, a: Assignment, data: BaseModel) -> None:
        """Emits a report event with the assignment's next sequence."""
        await uow.emit(topic, a.report_id, data, sequence=a.next_sequence())

    async def emit(self, uow: Emitter, topic: Topic, a: Assignment, data: BaseModel) -> None:
        """Emits a report event, remembering the latest assignment and state payloads that a
        re-announced report gets again."""
        await self.send(uow, topic, a, data)
        if topic == Topic.REPORT_ASSIGNED:
            a.last_assigned = data.model_dump(mode="json")
            a.last_state = None
        elif topic != Topic.REPORT_ESCALATED:
            a.last_state = {"topic": topic.value, "data": data.model_dump(mode="json")}

    async def emit_assigned(self, uow: Emitter, a: Assignment, j: Jurisdiction) -> None:
        await self.emit(uow, Topic.REPORT_ASSIGNED, a, assigned_payload(a, j))
        counter = self.metrics.assignments_created.labels(a.reason)
        uow.after_commit(counter.inc)


def assigned_payload(a: Assignment, j: Jurisdiction) -> ReportAssignedV1:
    """`report.assigned` for the assignment's current attempt (its agency and due time)."""
    return ReportAssignedV1(
        report_id=a.report_id,
        assignment_id=a.id,
        agency_id=a.agency_id,
        agency_name=j.agency_name(a.agency_id),
        category=a.category,
        due_at=a.due_at,
        attempt=a.attempt,
        rule_id=a.rule_id,
        area_id=a.area_id,
        reason=a.reason,
        assigned_at=a.assigned_at,
    )
