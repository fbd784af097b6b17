"""Routing's use cases: each one loads, applies the domain, saves and adds its events in one
transaction (state and outbox together), then pokes the relay."""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.errors import DuplicateKeyError

from services.routing.auth import Accounts
from services.routing.domain.assignment import (
    Action,
    Actor,
    Assignment,
    AState,
    TransitionRefused,
    new_assignment,
)
from services.routing.domain.jurisdiction import (
    Decision,
    InvalidJurisdiction,
    Jurisdiction,
    choose,
    parse,
)
from services.routing.metrics import RoutingMetrics
from services.routing.settings import RoutingSettings
from services.routing.store import AreaRefused, Conflict, RoutingStore
from shared.auth import Principal
from shared.events import (
    CATALOG_KEY,
    AgencyRefV1,
    CatalogV1,
    CloudEvent,
    ReportAcceptedV1,
    ReportAssignedV1,
    ReportCreatedV1,
    ReportDuplicateV1,
    ReportEscalatedV1,
    ReportRejectedV1,
    ReportReopenedV1,
    ReportResolvedV1,
    Topic,
    utcnow,
)
from shared.http import ApiError
from shared.mongo import in_transaction
from shared.runtime import Runtime

log = logging.getLogger(__name__)
T = TypeVar("T")


def now_ms() -> datetime:
    """MongoDB keeps milliseconds: truncate so that stored and in-memory times compare equal."""
    now = utcnow()
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


def actor_of(p: Principal) -> Actor:
    return Actor(p.sub, p.agency_id)


class RoutingService:
    def __init__(
        self,
        runtime: Runtime,
        settings: RoutingSettings,
        store: RoutingStore,
        accounts: Accounts,
        metrics: RoutingMetrics,
    ) -> None:
        self.rt = runtime
        self.settings = settings
        self.store = store
        self.accounts = accounts
        self.metrics = metrics
        self._file_cache: Jurisdiction | None = None
        # Set once this process has stored (or found) the jurisdiction and its areas: routing
        # before that would miss every area on a first start.
        self.seeded = asyncio.Event()

    # ------------------------------------------------------------ jurisdiction

    def file_jurisdiction(self) -> Jurisdiction:
        if self._file_cache is None:
            path = Path(self.settings.jurisdiction_file)
            self._file_cache = parse(json.loads(path.read_text(encoding="utf-8")))
        return self._file_cache

    async def jurisdiction(self, session: AsyncClientSession | None = None) -> Jurisdiction:
        """The stored document; the seed file until the first start has stored it."""
        return await self.store.jurisdiction(session) or self.file_jurisdiction()

    async def seed_and_publish(self) -> Jurisdiction:
        """At start: store the file if newer than the database, then (re)publish the catalogue."""
        seed = self.file_jurisdiction()

        async def work(session: AsyncClientSession) -> Jurisdiction:
            current = await self.store.jurisdiction(session)
            if current is None or seed.version > current.version:
                await self.store.save_jurisdiction(seed, session)
                current = seed
                log.info("jurisdiction version %d loaded from %s", seed.version, "file")
            await self._add_catalog(session, current)
            return current

        applied = await in_transaction(self.rt.client, work)
        self.seeded.set()
        self.rt.outbox.poke()
        await self.accounts.seed_demo(applied)
        admin_password = self.settings.bootstrap_admin_password
        if admin_password is not None:
            await self.accounts.bootstrap_admin(
                self.settings.bootstrap_admin_username, admin_password.get_secret_value()
            )
        return applied

    async def put_account(
        self, username: str, password: str, scopes: list[str], agency_id: str | None
    ) -> None:
        """Admin: create or replace a real login; staff accounts must name an existing agency."""
        agencies = {a.id for a in (await self.jurisdiction()).agencies}
        await self.accounts.put(username, password, scopes, agency_id, agencies)

    async def replace_jurisdiction(self, document: dict[str, Any], actor: Actor) -> Jurisdiction:
        """Admin change: validate the whole document, bump the version, apply, republish."""
        candidate = parse({**document, "version": document.get("version") or 1})

        async def work(session: AsyncClientSession) -> Jurisdiction:
            current = await self.jurisdiction(session)
            applied = candidate.model_copy(update={"version": current.version + 1})
            await self.store.save_jurisdiction(applied, session)
            await self._add_catalog(session, applied)
            return applied

        try:
            applied = await in_transaction(self.rt.client, work)
        except AreaRefused as exc:
            # The transaction is aborted: the previous document and its areas stay in force.
            log.warning("jurisdiction change refused by the database: %s", exc)
            raise InvalidJurisdiction(
                [f"area {exc.area_id}: geometry refused by the database: {exc.reason}"]
            ) from exc
        self.rt.outbox.poke()
        log.info("jurisdiction version %d applied by %s", applied.version, actor.sub)
        await self.accounts.seed_demo(applied)
        return applied

    async def _add_catalog(self, session: AsyncClientSession, j: Jurisdiction) -> None:
        catalog = CatalogV1(
            version=j.version,
            published_at=utcnow(),
            categories=j.categories,
            agencies=[AgencyRefV1.model_validate(a.model_dump()) for a in j.agencies],
        )
        await self.rt.outbox.add(
            session, Topic.JURISDICTION_CATALOG, CATALOG_KEY, catalog, sequence=j.version
        )

    def _deadline(self, j: Jurisdiction, category: str) -> timedelta:
        cat = j.category(category)
        hours = cat.deadline_hours if cat else self.settings.default_deadline_hours
        return timedelta(hours=hours)

    async def _decide(
        self, j: Jurisdiction, category: str, lon: float, lat: float, exclude: list[str]
    ) -> Decision:
        hits = await self.store.areas_containing(lon, lat)
        return choose(j, category, hits, exclude)

    # ------------------------------------------------------------ events out

    async def _emit(
        self, session: AsyncClientSession, topic: Topic, a: Assignment, data: BaseModel
    ) -> None:
        await self.rt.outbox.add(session, topic, a.report_id, data)
        if topic == Topic.REPORT_ASSIGNED:
            a.last_assigned = data.model_dump(mode="json")
            a.last_state = None
        elif topic != Topic.REPORT_ESCALATED:
            a.last_state = {"topic": topic.value, "data": data.model_dump(mode="json")}

    async def _emit_assigned(
        self, session: AsyncClientSession, a: Assignment, j: Jurisdiction
    ) -> None:
        agency = j.agency(a.agency_id)
        name = (agency.name.get("vi") or agency.name.get("en") or a.agency_id) if agency else ""
        data = ReportAssignedV1(
            report_id=a.report_id,
            assignment_id=a.id,
            agency_id=a.agency_id,
            agency_name=name or a.agency_id,
            category=a.category,
            due_at=a.due_at,
            attempt=a.attempt,
            rule_id=a.rule_id,
            area_id=a.area_id,
            reason=a.reason,
            assigned_at=a.assigned_at,
        )
        await self._emit(session, Topic.REPORT_ASSIGNED, a, data)
        self.metrics.assignments_created.labels(a.reason).inc()

    # ------------------------------------------------------------ events in

    async def _wait_seeded(self) -> None:
        """Raises after a while (the consumer retries) rather than route with no areas."""
        await asyncio.wait_for(self.seeded.wait(), timeout=20)

    async def on_report_created(self, event: CloudEvent, session: AsyncClientSession) -> None:
        """Routes a new report; a re-announced one gets its current assignment re-emitted."""
        report = event.payload(ReportCreatedV1)  # contact_sealed is never stored here
        await self._wait_seeded()
        found = await self.store.by_report(report.report_id, session)
        if found is not None:
            a, rev = found
            await self._reannounce(session, a)
            a.intake_seq = max(a.intake_seq, event.sequence)
            await self.store.save(a, rev, session)
            return
        j = await self.jurisdiction(session)
        lon, lat = report.location.lon, report.location.lat
        decision = await self._decide(j, report.category, lon, lat, [])
        a = new_assignment(
            assignment_id=str(uuid.uuid4()),
            report_id=report.report_id,
            category=report.category,
            lon=lon,
            lat=lat,
            agency_id=decision.agency_id,
            at=now_ms(),
            deadline=self._deadline(j, report.category),
            reason=decision.reason,
            rule_id=decision.rule_id,
            area_id=decision.area_id,
        )
        a.intake_seq = event.sequence
        await self._emit_assigned(session, a, j)
        try:
            await self.store.insert(a, session)
        except DuplicateKeyError as exc:  # a concurrent delivery won: retry takes the other path
            raise Conflict(a.report_id) from exc

    async def _reannounce(self, session: AsyncClientSession, a: Assignment) -> None:
        """Intake still shows `received`: emit the assignment (and its latest state) again."""
        if a.last_assigned:
            await self.rt.outbox.add(
                session, Topic.REPORT_ASSIGNED, a.report_id, ReportAssignedV1(**a.last_assigned)
            )
        if a.last_state:
            topic = Topic(a.last_state["topic"])
            model = _STATE_MODELS[topic]
            await self.rt.outbox.add(
                session, topic, a.report_id, model.model_validate(a.last_state["data"])
            )

    async def on_report_reopened(self, event: CloudEvent, session: AsyncClientSession) -> None:
        """A resident reopened a resolved report: route it again by the rules."""
        reopened = event.payload(ReportReopenedV1)
        await self._wait_seeded()
        found = await self.store.by_report(reopened.report_id, session)
        if found is None:
            # Nothing to route again (e.g. intake's created event predates routing's data).
            # The report id is not personal data; the reporter's contact never reaches here.
            log.warning(
                "report.reopened for report %s which routing never saw; ignored",
                reopened.report_id,
                extra={"report_id": reopened.report_id, "event_id": event.id},
            )
            self.metrics.unknown_reopens.inc()
            return
        a, rev = found
        if event.sequence <= a.intake_seq or a.is_open():
            why = "still open" if a.is_open() else "older than what was applied"
            a.record(Action.ROUTE, Actor("intake"), now_ms(), note=f"reopen ignored: {why}")
            await self.store.save(a, rev, session)
            return
        a.intake_seq = event.sequence
        if reopened.category:
            a.category = reopened.category
        if reopened.location:
            a.lon, a.lat = reopened.location.lon, reopened.location.lat
        j = await self.jurisdiction(session)
        decision = await self._decide(j, a.category, a.lon, a.lat, [])
        a.move_to(
            decision.agency_id,
            action=Action.ROUTE,
            actor=Actor("intake"),
            at=now_ms(),
            deadline=self._deadline(j, a.category),
            reason=decision.reason,
            rule_id=decision.rule_id,
            area_id=decision.area_id,
            note=f"reopened: {reopened.reason}"[:500],
        )
        await self._emit_assigned(session, a, j)
        await self.store.save(a, rev, session)

    # ------------------------------------------------------------ commands

    async def _command(
        self,
        principal: Principal,
        assignment_id: str,
        work: Callable[[AsyncClientSession, Assignment, Jurisdiction], Awaitable[None]],
    ) -> Assignment:
        """Loads the assignment the caller may see, applies `work`, saves, commits, pokes."""

        async def tx(session: AsyncClientSession) -> Assignment:
            found = await self.store.get(assignment_id, session)
            if found is None or not visible_to(principal, found[0]):
                raise ApiError(404, "not_found", "no such assignment")
            a, rev = found
            j = await self.jurisdiction(session)
            await work(session, a, j)
            await self.store.save(a, rev, session)
            return a

        try:
            a = await in_transaction(self.rt.client, tx)
        except TransitionRefused as exc:
            raise ApiError(409, "invalid_transition", str(exc)) from exc
        except Conflict as exc:
            raise ApiError(409, "conflict", "assignment changed meanwhile; retry") from exc
        self.rt.outbox.poke()
        return a

    def _progress(self, a: Assignment, note: str | None, at: datetime) -> ReportAcceptedV1:
        return ReportAcceptedV1(
            report_id=a.report_id, assignment_id=a.id, agency_id=a.agency_id, note=note, at=at
        )

    async def accept(self, p: Principal, assignment_id: str, note: str | None) -> Assignment:
        async def work(s: AsyncClientSession, a: Assignment, j: Jurisdiction) -> None:
            at = now_ms()
            a.set_status(Action.ACCEPT, AState.ACCEPTED, actor_of(p), at, note)
            await self._emit(s, Topic.REPORT_ACCEPTED, a, self._progress(a, note, at))

        return await self._command(p, assignment_id, work)

    async def start(self, p: Principal, assignment_id: str, note: str | None) -> Assignment:
        async def work(s: AsyncClientSession, a: Assignment, j: Jurisdiction) -> None:
            at = now_ms()
            a.set_status(Action.START, AState.IN_PROGRESS, actor_of(p), at, note)
            await self._emit(s, Topic.REPORT_IN_PROGRESS, a, self._progress(a, note, at))

        return await self._command(p, assignment_id, work)

    async def reject(self, p: Principal, assignment_id: str, reason: str) -> Assignment:
        """Not ours: next agency by the rules that has not rejected it, else the IOC."""

        async def work(s: AsyncClientSession, a: Assignment, j: Jurisdiction) -> None:
            if a.agency_id == j.fallback_agency:
                raise ApiError(
                    409,
                    "invalid_transition",
                    "the triage desk cannot reject: assign, transfer or dismiss it instead",
                )
            at = now_ms()
            a.reject_by_agency(actor_of(p), at, reason)
            decision = await self._decide(j, a.category, a.lon, a.lat, a.rejected_by)
            a.move_to(
                decision.agency_id,
                action=Action.REJECT,
                actor=actor_of(p),
                at=at,
                deadline=self._deadline(j, a.category),
                reason="reroute",
                rule_id=decision.rule_id,
                area_id=decision.area_id,
                note=reason,
            )
            await self._emit_assigned(s, a, j)

        return await self._command(p, assignment_id, work)

    async def transfer(
        self, p: Principal, assignment_id: str, agency_id: str, note: str | None
    ) -> Assignment:
        return await self._reassign(p, assignment_id, agency_id, note, Action.TRANSFER, "transfer")

    async def assign(
        self, p: Principal, assignment_id: str, agency_id: str, note: str | None
    ) -> Assignment:
        return await self._reassign(p, assignment_id, agency_id, note, Action.ASSIGN, "manual")

    async def _reassign(
        self,
        p: Principal,
        assignment_id: str,
        agency_id: str,
        note: str | None,
        action: Action,
        reason: str,
    ) -> Assignment:
        async def work(s: AsyncClientSession, a: Assignment, j: Jurisdiction) -> None:
            if j.agency(agency_id) is None:
                raise ApiError(422, "unknown_agency", f"no agency {agency_id!r}")
            if agency_id == a.agency_id and a.is_open():
                raise ApiError(409, "invalid_transition", "already assigned to that agency")
            a.move_to(
                agency_id,
                action=action,
                actor=actor_of(p),
                at=now_ms(),
                deadline=self._deadline(j, a.category),
                reason=reason,
                note=note,
            )
            await self._emit_assigned(s, a, j)

        return await self._command(p, assignment_id, work)

    async def resolve(
        self, p: Principal, assignment_id: str, note: str, photo_ids: list[str]
    ) -> Assignment:
        """Resolves it, and every report marked as its duplicate."""

        async def work(s: AsyncClientSession, a: Assignment, j: Jurisdiction) -> None:
            at = now_ms()
            on_time = at <= a.due_at
            a.set_status(Action.RESOLVE, AState.RESOLVED, actor_of(p), at, note)
            a.note, a.photo_ids = note, photo_ids
            urls = [self.photo_url(i) for i in photo_ids]
            await self._emit(
                s, Topic.REPORT_RESOLVED, a, self._resolved(a, note, urls, at, on_time)
            )
            for dup, rev in await self.store.duplicates_of(a.report_id, s):
                dup.status = AState.RESOLVED
                dup.note, dup.photo_ids = note, photo_ids
                dup.record(Action.RESOLVE, actor_of(p), at, note=f"original {a.report_id} resolved")
                await self._emit(s, Topic.REPORT_RESOLVED, dup, self._resolved(dup, note, urls, at))
                await self.store.save(dup, rev, s)

        return await self._command(p, assignment_id, work)

    @staticmethod
    def _resolved(
        a: Assignment, note: str, urls: list[str], at: datetime, on_time: bool | None = None
    ) -> ReportResolvedV1:
        return ReportResolvedV1(
            report_id=a.report_id,
            assignment_id=a.id,
            agency_id=a.agency_id,
            note=note,
            photo_urls=urls,
            resolved_at=at,
            on_time=on_time,
        )

    def photo_url(self, photo_id: str) -> str:
        return f"{self.settings.public_base_url.rstrip('/')}/api/v1/photos/{photo_id}"

    async def dismiss(self, p: Principal, assignment_id: str, reason: str) -> Assignment:
        """Operator: spam or not a public matter."""

        async def work(s: AsyncClientSession, a: Assignment, j: Jurisdiction) -> None:
            at = now_ms()
            a.set_status(Action.DISMISS, AState.REJECTED, actor_of(p), at, reason)
            data = ReportRejectedV1(report_id=a.report_id, reason=reason, by=p.sub, at=at)
            await self._emit(s, Topic.REPORT_REJECTED, a, data)

        return await self._command(p, assignment_id, work)

    async def mark_duplicate(self, p: Principal, assignment_id: str, original: str) -> Assignment:
        """Operator: this report duplicates `original` (a report id); resolved together."""

        async def work(s: AsyncClientSession, a: Assignment, j: Jurisdiction) -> None:
            found = await self.store.by_report(original, s)
            if found is None:
                raise ApiError(422, "unknown_report", f"routing has no report {original!r}")
            orig = found[0]
            # Point at the root so that resolving it resolves the whole group.
            root_id = orig.duplicate_of or orig.report_id
            if root_id == a.report_id:
                raise ApiError(422, "invalid_duplicate", "a report cannot duplicate itself")
            at = now_ms()
            a.set_status(Action.DUPLICATE, AState.DUPLICATE, actor_of(p), at, f"of {root_id}")
            a.duplicate_of = root_id
            data = ReportDuplicateV1(report_id=a.report_id, duplicate_of=root_id, at=at)
            await self._emit(s, Topic.REPORT_DUPLICATE, a, data)

        return await self._command(p, assignment_id, work)

    async def get(self, p: Principal, assignment_id: str) -> Assignment:
        found = await self.store.get(assignment_id)
        if found is None or not visible_to(p, found[0]):
            raise ApiError(404, "not_found", "no such assignment")
        return found[0]

    # ------------------------------------------------------------ deadlines

    async def check_deadlines(self) -> int:
        """Raises one `report.escalated` per breach; safe with several replicas and restarts:
        the breach mark and the event are written together, guarded by the revision."""
        now = now_ms()
        raised = 0
        for assignment_id in await self.store.overdue_ids(now):

            async def tx(session: AsyncClientSession, aid: str = assignment_id) -> bool:
                found = await self.store.get(aid, session)
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
                await self._emit(session, Topic.REPORT_ESCALATED, a, data)
                await self.store.save(a, rev, session)
                return True

            try:
                raised += await in_transaction(self.rt.client, tx)
            except Conflict:
                continue  # another replica or request changed it first
        if raised:
            self.metrics.escalations.inc(raised)
            self.rt.outbox.poke()
        return raised

    async def refresh_gauges(self) -> None:
        j = await self.jurisdiction()
        opened, overdue = await self.store.open_counts(now_ms())
        # Agencies removed by an admin change disappear from the series.
        self.metrics.open_assignments.clear()
        self.metrics.overdue_assignments.clear()
        for agency in j.agencies:
            self.metrics.open_assignments.labels(agency.id).set(opened.get(agency.id, 0))
            self.metrics.overdue_assignments.labels(agency.id).set(overdue.get(agency.id, 0))


_STATE_MODELS: dict[Topic, type[BaseModel]] = {
    Topic.REPORT_ACCEPTED: ReportAcceptedV1,
    Topic.REPORT_IN_PROGRESS: ReportAcceptedV1,
    Topic.REPORT_RESOLVED: ReportResolvedV1,
    Topic.REPORT_REJECTED: ReportRejectedV1,
    Topic.REPORT_DUPLICATE: ReportDuplicateV1,
}


def visible_to(p: Principal, a: Assignment) -> bool:
    """Operators and admins see every agency; staff only their own agency's assignments."""
    if p.has("operator") or p.has("admin"):
        return True
    return p.has("staff") and p.agency_id is not None and p.agency_id == a.agency_id
