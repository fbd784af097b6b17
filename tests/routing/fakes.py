"""In-memory stand-ins for routing's stores (same methods as `services/routing/stores/`) and the
wiring of every use case over them and `FakeTransactions`: use-case tests with no I/O."""

from __future__ import annotations

import copy
import io
import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from PIL import Image
from prometheus_client import CollectorRegistry

from services.routing.domain.assignment import Assignment
from services.routing.domain.closures import Closures
from services.routing.domain.errors import ChangedMeanwhile
from services.routing.domain.jurisdiction import Jurisdiction
from services.routing.domain.logins import Backoff, LoginPolicy
from services.routing.domain.queue import DueTime, QueueFilter
from services.routing.metrics import RoutingMetrics
from services.routing.settings import DEMO_JURISDICTION
from services.routing.usecases.accounts import Accounts
from services.routing.usecases.admin import JurisdictionAdmin
from services.routing.usecases.closures import ClosureAdmin
from services.routing.usecases.deadlines import Deadlines
from services.routing.usecases.events import IncomingReports
from services.routing.usecases.logins import LoginThrottle
from services.routing.usecases.operator import OperatorCommands, OperatorQueries
from services.routing.usecases.photos import ResolutionPhotos
from services.routing.usecases.staff import StaffCommands, StaffQueries
from services.routing.usecases.workflow import Jurisdictions, Workflow
from shared.auth import Principal
from shared.events import GeoPoint, ReportCreatedV1
from shared.uow import FakeTransactions, Session
from tests.routing.fake_logins import FakeAccountStore, FakeLoginFailureStore

T0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
PHU_HOI = (107.599, 16.459)  # (lon, lat) inside the demo Phú Hội ward


class FakeJurisdictionStore:
    def __init__(self) -> None:
        self.document: Jurisdiction | None = None
        self.refuse: Exception | None = None  # raised by `save`, as the 2dsphere index would
        self.reads = 0
        self.closure_set = Closures()

    async def current(self, session: Session = None) -> Jurisdiction | None:
        self.reads += 1
        return copy.deepcopy(self.document)

    async def version(self, session: Session = None) -> int | None:
        return self.document.version if self.document else None

    async def save(self, j: Jurisdiction, session: Session = None) -> None:
        if self.refuse is not None:
            raise self.refuse
        self.document = copy.deepcopy(j)

    async def stamp(self, session: Session = None) -> tuple[int, int] | None:
        return (self.document.version, self.closure_set.version) if self.document else None

    async def closures(self, session: Session = None) -> Closures:
        return self.closure_set

    async def save_closures(self, closures: Closures, session: Session = None) -> None:
        self.closure_set = closures


class FakeAssignmentStore:
    """Keeps copies, as a database would: a change not saved is not stored."""

    def __init__(self) -> None:
        self.rows: dict[str, tuple[Assignment, int]] = {}
        self.calls: list[str] = []  # the batch methods called, in order

    def stored(self, assignment_id: str) -> Assignment:
        return copy.deepcopy(self.rows[assignment_id][0])

    async def get(
        self, assignment_id: str, session: Session = None
    ) -> tuple[Assignment, int] | None:
        found = self.rows.get(assignment_id)
        return (copy.deepcopy(found[0]), found[1]) if found else None

    async def by_report(
        self, report_id: str, session: Session = None
    ) -> tuple[Assignment, int] | None:
        return (await self.by_reports([report_id])).get(report_id)

    async def by_reports(
        self, report_ids: Sequence[str], session: Session = None
    ) -> dict[str, tuple[Assignment, int]]:
        self.calls.append("by_reports")
        return {
            a.report_id: (copy.deepcopy(a), rev)
            for a, rev in self.rows.values()
            if a.report_id in report_ids
        }

    async def insert(self, new: Sequence[Assignment], session: Session = None) -> None:
        if not new:
            return
        self.calls.append("insert")
        known = {a.report_id for a, _ in self.rows.values()}
        if any(a.report_id in known for a in new):
            raise ChangedMeanwhile(new[0].id)
        for a in new:
            self.rows[a.id] = (copy.deepcopy(a), 1)

    async def insert_absent(self, new: Sequence[Assignment], session: Session = None) -> set[str]:
        if not new:
            return set()
        self.calls.append("insert_absent")
        known = {a.report_id for a, _ in self.rows.values()}
        inserted: set[str] = set()
        for a in new:
            if a.report_id not in known | inserted:
                self.rows[a.id] = (copy.deepcopy(a), 1)
                inserted.add(a.report_id)
        return inserted

    async def save(self, a: Assignment, rev: int, session: Session = None) -> None:
        await self.save_many([(a, rev)])

    async def save_many(
        self, changed: Sequence[tuple[Assignment, int]], session: Session = None
    ) -> None:
        if not changed:
            return
        self.calls.append("save_many")
        if any(a.id not in self.rows or self.rows[a.id][1] != rev for a, rev in changed):
            raise ChangedMeanwhile(changed[0][0].id)
        for a, rev in changed:
            self.rows[a.id] = (copy.deepcopy(a), rev + 1)

    async def duplicates_of(
        self, report_id: str, session: Session = None
    ) -> list[tuple[Assignment, int]]:
        return [
            (copy.deepcopy(a), rev)
            for a, rev in self.rows.values()
            if a.duplicate_of == report_id and a.status == "duplicate"
        ]

    async def query(
        self, f: QueueFilter, now: datetime, session: Session = None
    ) -> list[Assignment]:
        rows = (a for a, _ in self.rows.values() if f.matches(a, now))
        found = sorted(rows, key=lambda a: a.due_at)
        return copy.deepcopy(found[: f.limit])

    async def open_due_from(
        self, since: datetime, session: Session = None
    ) -> list[tuple[Assignment, int]]:
        return [
            (copy.deepcopy(a), rev)
            for a, rev in self.rows.values()
            if a.is_open() and a.due_at >= since
        ]

    async def overdue_due_times(self, now: datetime, session: Session = None) -> list[DueTime]:
        return [d for d in await self.open_due_times(session) if d.overdue(now)]

    async def open_due_times(self, session: Session = None) -> list[DueTime]:
        return [
            DueTime(a.id, a.agency_id, a.due_at, a.escalated_due)
            for a, _ in self.rows.values()
            if a.is_open()
        ]


class FakePhotoStore:
    def __init__(self) -> None:
        self.files: dict[str, tuple[bytes, str, bool]] = {}  # id -> (data, type, pending)
        self._ids = (f"p{i}" for i in itertools.count(1))

    async def put_pending(
        self, data: bytes, content_type: str, owner: str, file_id: str | None = None
    ) -> str:
        file_id = file_id or next(self._ids)
        self.files[file_id] = (data, content_type, True)
        return file_id

    async def confirm(self, file_ids: Sequence[str], session: Session) -> None:
        for i in file_ids:
            data, kind, _ = self.files[i]
            self.files[i] = (data, kind, False)

    async def discard(self, file_ids: Sequence[str]) -> None:
        for i in file_ids:
            if self.files.get(i, (b"", "", False))[2]:
                del self.files[i]

    async def get(self, file_id: str) -> tuple[bytes, str] | None:
        found = self.files.get(file_id)
        return None if found is None or found[2] else (found[0], found[1])


class PlainHasher:
    """Not a password hash: fast and readable, for tests only."""

    def hash(self, password: str) -> str:
        return f"hashed:{password}"

    def verify(self, digest: str, password: str) -> bool:
        return digest == f"hashed:{password}"


class Clock:
    def __init__(self, now: datetime = T0) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (4, 3), "blue").save(out, format="PNG")
    return out.getvalue()


def created(
    report_id: str,
    category: str = "sidewalk-encroachment",
    point: tuple[float, float] = PHU_HOI,
    at: datetime = T0,
) -> ReportCreatedV1:
    """What intake's `report.created` says (the sealed contact is a placeholder)."""
    location = GeoPoint(lon=point[0], lat=point[1])
    return ReportCreatedV1(
        report_id=report_id,
        category=category,
        location=location,
        description="test",
        created_at=at,
        contact_sealed="sealed",
    )


def staff(agency_id: str) -> Principal:
    return Principal(sub=agency_id, scopes=["staff"], agency_id=agency_id)


OPERATOR = Principal(sub="operator", scopes=["operator"])
LOGIN_POLICY = LoginPolicy(per_account=Backoff(free=3), per_client=Backoff(free=10))


@dataclass
class Routing:
    """Every use case, wired as `app.py` wires them, over fakes."""

    clock: Clock = field(default_factory=Clock)
    tx: FakeTransactions = field(default_factory=lambda: FakeTransactions("/fieldreports/routing"))
    jurisdiction_store: FakeJurisdictionStore = field(default_factory=FakeJurisdictionStore)
    assignments: FakeAssignmentStore = field(default_factory=FakeAssignmentStore)
    account_store: FakeAccountStore = field(default_factory=FakeAccountStore)
    login_failures: FakeLoginFailureStore = field(default_factory=FakeLoginFailureStore)
    photo_store: FakePhotoStore = field(default_factory=FakePhotoStore)
    demo_logins: bool = True

    def __post_init__(self) -> None:
        self.registry = CollectorRegistry()
        self.metrics = RoutingMetrics(self.registry)
        self.jurisdictions = Jurisdictions(self.jurisdiction_store, DEMO_JURISDICTION)
        self.jurisdictions.seeded.set()
        self.work = Workflow(
            transactions=self.tx,
            assignments=self.assignments,
            jurisdictions=self.jurisdictions,
            metrics=self.metrics,
            clock=self.clock,
            default_deadline_hours=72,
        )
        self.photos = ResolutionPhotos(
            self.photo_store, max_pixels=1_000_000, public_base_url="http://routing/"
        )
        self.throttle = LoginThrottle(self.login_failures, LOGIN_POLICY, self.clock)
        self.revoked: list[tuple[str, int]] = []
        self.accounts = Accounts(
            self.account_store,
            self.jurisdictions,
            demo_logins=self.demo_logins,
            throttle=self.throttle,
            clock=self.clock,
            transactions=self.tx,
            revoked=lambda username, version: self.revoked.append((username, version)),
            hasher=PlainHasher(),
        )
        self.accounts.open.set()
        self.admin = JurisdictionAdmin(self.tx, self.jurisdictions, self.accounts, self.clock)
        ids = (f"a{i}" for i in itertools.count(1))
        self.reports = IncomingReports(self.work, new_id=lambda: next(ids))
        self.staff_queries = StaffQueries(self.work)
        self.staff = StaffCommands(self.work, self.photos)
        self.operator_queries = OperatorQueries(self.work)
        self.operator = OperatorCommands(self.work)
        self.deadlines = Deadlines(self.work)
        self.closures = ClosureAdmin(self.work)

    def metric(self, name: str, **labels: str) -> float:
        return float(self.registry.get_sample_value(name, labels) or 0.0)

    def types(self) -> list[str]:
        """The types of the committed events, in order."""
        return [e.type for e in self.tx.emitted]

    async def route(
        self,
        report_id: str = "r1",
        category: str = "sidewalk-encroachment",
        point: tuple[float, float] = PHU_HOI,
        sequence: int = 1,
    ) -> Assignment:
        """Delivers `report.created` for the report; returns its stored assignment."""
        report = created(report_id, category, point, self.clock())
        await self.tx.run(lambda uow: self.reports.created(report, sequence, uow))
        found = await self.assignments.by_report(report_id)
        assert found is not None
        return found[0]
