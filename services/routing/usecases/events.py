"""Reports arriving from intake: `report.created` (route it) and `report.reopened` (route again).

A polled batch is applied at once, with the same result as one event after another: the
batch's assignments are read in one query, each report's events are replayed in order on a
draft of its assignment, the new assignments are inserted in one write and the changed ones
saved in one (revision-guarded) write. A batch of one new report is one write: an upsert that
leaves an existing assignment alone (then the general path re-announces it). Only then are the
drafts' events emitted (each in its arrival's trace); their counters move after the commit.
"""

from __future__ import annotations

import contextlib
import logging
import uuid
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field

from pydantic import BaseModel

from services.routing.domain.assignment import Action, Actor, Assignment, new_assignment
from services.routing.domain.jurisdiction import Decision, Jurisdiction, choose
from services.routing.usecases.workflow import Workflow
from shared.events import PAYLOADS, ReportAssignedV1, ReportCreatedV1, ReportReopenedV1, Topic
from shared.uow import Session, UnitOfWork

log = logging.getLogger(__name__)

INTAKE = Actor("intake")


def _new_id() -> str:
    return str(uuid.uuid4())


@dataclass(frozen=True)
class Arrival:
    """One event from intake, decoded, with its sequence and the scope (log ids, trace span)
    in which what it causes is emitted."""

    report: ReportCreatedV1 | ReportReopenedV1
    sequence: int
    scope: Callable[[], AbstractContextManager[object]] = contextlib.nullcontext


@dataclass
class _Draft:
    """One report's assignment while its arrivals are replayed: what it will emit and count
    once its write is known to apply. `rev` None: not stored yet."""

    a: Assignment | None = None
    rev: int | None = None
    changed: bool = False
    arrival: Arrival | None = None
    emitted: list[tuple[Arrival, str, BaseModel, int]] = field(default_factory=list)
    callbacks: list[Callable[[], None]] = field(default_factory=list)

    async def emit(
        self, topic: str, subject: str, payload: BaseModel, *, sequence: int | None = None
    ) -> None:
        assert self.arrival is not None
        assert sequence is not None
        self.emitted.append((self.arrival, topic, payload, sequence))

    def after_commit(self, callback: Callable[[], None]) -> None:
        self.callbacks.append(callback)


class IncomingReports:
    def __init__(self, work: Workflow, new_id: Callable[[], str] = _new_id) -> None:
        self.work = work
        self.new_id = new_id

    async def created(self, report: ReportCreatedV1, sequence: int, uow: UnitOfWork) -> None:
        await self.arrive([Arrival(report, sequence)], uow)

    async def reopened(self, reopened: ReportReopenedV1, sequence: int, uow: UnitOfWork) -> None:
        await self.arrive([Arrival(reopened, sequence)], uow)

    async def arrive(self, arrivals: Sequence[Arrival], uow: UnitOfWork) -> None:
        """Applies a batch of arrivals in one unit of work: one read of the reports'
        assignments, one insert of the new ones, one save of the changed ones; a lone new
        report is one write (inserted unless it has an assignment already)."""
        await self.work.jurisdictions.wait_seeded()
        by_report: dict[str, list[Arrival]] = {}
        for one in arrivals:
            by_report.setdefault(one.report.report_id, []).append(one)
        if len(by_report) == 1:
            [(rid, group)] = by_report.items()
            if isinstance(group[0].report, ReportCreatedV1):
                lone = await self._replay(_Draft(), group)
                assert lone.a is not None
                if await self.work.assignments.insert_absent([lone.a], uow.session):
                    await self._emit(arrivals, {rid: lone}, uow)
                    return
        found = await self.work.assignments.by_reports(list(by_report), uow.session)
        drafts: dict[str, _Draft] = {}
        for rid, group in by_report.items():
            a, rev = found.get(rid, (None, None))
            drafts[rid] = await self._replay(_Draft(a, rev), group)
        await self._store(list(drafts.values()), uow.session)
        await self._emit(arrivals, drafts, uow)

    async def _replay(self, draft: _Draft, arrivals: list[Arrival]) -> _Draft:
        for one in arrivals:
            draft.arrival = one
            if isinstance(one.report, ReportCreatedV1):
                await self._created(draft, one.report, one.sequence)
            else:
                await self._reopened(draft, one.report, one.sequence)
        return draft

    async def _store(self, drafts: list[_Draft], session: Session) -> None:
        new = [d.a for d in drafts if d.rev is None and d.a is not None]
        # A concurrent delivery that inserted one first makes this `ChangedMeanwhile`: the
        # consumer applies these events again, and that report takes the re-announce path.
        await self.work.assignments.insert(new, session)
        changed = [(d.a, d.rev) for d in drafts if d.a and d.rev is not None and d.changed]
        await self.work.assignments.save_many(changed, session)

    async def _emit(
        self, arrivals: Sequence[Arrival], drafts: dict[str, _Draft], uow: UnitOfWork
    ) -> None:
        """The drafts' events in the order of their arrivals, each in its arrival's scope."""
        caused: dict[int, list[tuple[str, BaseModel, int]]] = {}
        for draft in drafts.values():
            for one, topic, payload, sequence in draft.emitted:
                caused.setdefault(id(one), []).append((topic, payload, sequence))
            for callback in draft.callbacks:
                uow.after_commit(callback)
        for one in arrivals:
            with one.scope():
                for topic, payload, sequence in caused.get(id(one), []):
                    await uow.emit(topic, one.report.report_id, payload, sequence=sequence)

    async def _created(self, draft: _Draft, report: ReportCreatedV1, sequence: int) -> None:
        """Routes a new report by the rules; a re-announced one (already routed) gets its
        current assignment and latest state re-emitted instead. The sealed contact is dropped."""
        if draft.a is not None:
            await self._reannounce(draft, draft.a)
            draft.a.intake_seq = max(draft.a.intake_seq, sequence)
            draft.changed = True
            return
        j = self.work.jurisdictions.current()
        lon, lat = report.location.lon, report.location.lat
        decision = self._decide(j, report)
        at = self.work.clock()
        a = new_assignment(
            assignment_id=self.new_id(),
            report_id=report.report_id,
            category=report.category,
            lon=lon,
            lat=lat,
            agency_id=decision.agency_id,
            at=at,
            due_at=self.work.due_for(j, report.category, at)(decision.agency_id),
            reason=decision.reason,
            rule_id=decision.rule_id,
            area_id=decision.area_id,
        )
        a.intake_seq = sequence
        if report.triage is not None:
            a.suggestions = [s.model_dump() for s in report.triage.suggestions]
            a.disputed = report.triage.disputed
        draft.a = a
        await self.work.emit_assigned(draft, a, j)

    def _decide(self, j: Jurisdiction, report: ReportCreatedV1) -> Decision:
        """By the rules; a category the model strongly disputes waits in the IOC triage queue
        (reason `disputed`) rather than go to the rule's agency, which would likely reject it."""
        if report.triage is not None and report.triage.disputed:
            return Decision(j.fallback_agency, "disputed")
        hits = self.work.jurisdictions.areas_containing(report.location.lon, report.location.lat)
        return choose(j, report.category, hits)

    async def _reannounce(self, draft: _Draft, a: Assignment) -> None:
        """Intake still shows `received`: emit the assignment (and its latest state) again."""
        if a.last_assigned:
            again = ReportAssignedV1(**a.last_assigned)
            await self.work.send(draft, Topic.REPORT_ASSIGNED, a, again)
        if a.last_state:
            topic = a.last_state["topic"]
            payload = PAYLOADS[topic].model_validate(a.last_state["data"])
            await self.work.send(draft, topic, a, payload)

    async def _reopened(self, draft: _Draft, reopened: ReportReopenedV1, sequence: int) -> None:
        """A resident reopened a resolved report: routed again by the rules. Ignored (and
        noted in the history) while it is still open or when older than what was applied."""
        a = draft.a
        if a is None:
            # Nothing to route again (e.g. intake's created event predates routing's data).
            # The report id is not personal data; the reporter's contact never reaches here.
            draft.after_commit(lambda: self._unknown_reopen(reopened.report_id))
            return
        draft.changed = True
        why = a.reopen_ignored(sequence)
        if why is not None:
            a.record(Action.ROUTE, INTAKE, self.work.clock(), note=f"reopen ignored: {why}")
            return
        a.intake_seq = sequence
        if reopened.category:
            a.category = reopened.category
        if reopened.location:
            a.lon, a.lat = reopened.location.lon, reopened.location.lat
        j = self.work.jurisdictions.current()
        decision = choose(j, a.category, self.work.jurisdictions.areas_containing(a.lon, a.lat))
        at = self.work.clock()
        a.move_to(
            decision.agency_id,
            action=Action.ROUTE,
            actor=INTAKE,
            at=at,
            due_at=self.work.due_for(j, a.category, at)(decision.agency_id),
            reason=decision.reason,
            rule_id=decision.rule_id,
            area_id=decision.area_id,
            note=f"reopened: {reopened.reason}"[:500],
        )
        await self.work.emit_assigned(draft, a, j)

    def _unknown_reopen(self, report_id: str) -> None:
        log.warning(
            "report.reopened for report %s which routing never saw; ignored",
            report_id,
            extra={"report_id": report_id},
        )
        self.work.metrics.unknown_reopens.inc()
