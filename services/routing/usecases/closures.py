"""Administrators: closure days (a typhoon day off) for some or every agency.

Adding or removing one moves the due times it affects: in the same unit of work, every open
assignment due from the day before the closure on is re-timed from its assignment time with
the new calendar, the changed ones are saved in one write, and each gets its `report.assigned`
again (same attempt and assignment time, the new `due_at`; followed by its latest state event
when it had moved on, so that the public status stays as it was). Due times that do not move
emit nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta

from services.routing.domain.assignment import Actor, Assignment
from services.routing.domain.closures import Closure, Closures
from services.routing.domain.errors import NoSuchClosure, UnknownAgency
from services.routing.domain.jurisdiction import Jurisdiction
from services.routing.usecases.workflow import Workflow, assigned_payload
from shared.events import PAYLOADS, Topic
from shared.uow import UnitOfWork

_Edit = Callable[[Closures], Closures]


class ClosureAdmin:
    def __init__(self, work: Workflow) -> None:
        self.work = work

    async def list(self) -> list[Closure]:
        return list(self.work.jurisdictions.closures().items)

    async def put(self, closure: Closure, actor: Actor) -> Closure:
        """Adds (or replaces) the closure of `closure.day`; `UnknownAgency` for an agency id
        the jurisdiction does not have."""
        j = self.work.jurisdictions.current()
        unknown = [a for a in closure.agencies if j.agency(a) is None]
        if unknown:
            raise UnknownAgency(f"no agency {', '.join(map(repr, unknown))}")
        await self._change(closure.day, lambda held: held.with_closure(closure), actor)
        return closure

    async def remove(self, day: date, actor: Actor) -> None:
        if self.work.jurisdictions.closures().get(day) is None:
            raise NoSuchClosure()
        await self._change(day, lambda held: held.without(day), actor)

    async def _change(self, day: date, edit: _Edit, actor: Actor) -> None:
        await self.work.jurisdictions.wait_seeded()

        async def work(uow: UnitOfWork) -> Closures:
            store = self.work.jurisdictions.store
            # The stored set (another replica may have changed it), not the one held.
            new = edit(await store.closures(uow.session))
            await store.save_closures(new, uow.session)
            await self._retime(uow, day, new, actor)
            uow.after_commit(lambda: self.work.jurisdictions.hold_closures(new))
            return new

        await self.work.transactions.run(work)

    async def _retime(self, uow: UnitOfWork, day: date, closures: Closures, actor: Actor) -> None:
        """Re-times the open assignments the day can move (due from the day before it on,
        in UTC: every zone's local day is within a day of it)."""
        j = self.work.jurisdictions.current()
        since = datetime.combine(day - timedelta(days=1), time(), tzinfo=UTC)
        found = await self.work.assignments.open_due_from(since, uow.session)
        now = self.work.clock()
        changed: list[tuple[Assignment, int]] = []
        for a, rev in found:
            due = j.due_at(
                a.category, a.agency_id, a.assigned_at, self.work.default_deadline_hours, closures
            )
            if due == a.due_at:
                continue
            a.reschedule(due, now, f"closure day {day.isoformat()} changed by {actor.sub}")
            await self._announce(uow, a, j)
            changed.append((a, rev))
        await self.work.assignments.save_many(changed, uow.session)

    async def _announce(self, uow: UnitOfWork, a: Assignment, j: Jurisdiction) -> None:
        """The new due time on `report.assigned`, then the latest state again (if any)."""
        state = a.last_state  # emitting `report.assigned` forgets it
        await self.work.emit(uow, Topic.REPORT_ASSIGNED, a, assigned_payload(a, j))
        if state is not None:
            payload = PAYLOADS[state["topic"]].model_validate(state["data"])
            await self.work.emit(uow, Topic(state["topic"]), a, payload)
