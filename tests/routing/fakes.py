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

from services.routing.domain.accounts import Account
from services.routing.domain.assignment import Assignment, QueueFilter
from services.routing.domain.errors import ChangedMeanwhile
from services.routing.domain.jurisdiction import AreaHit, Jurisdiction
from services.routing.metrics import RoutingMetrics
from services.routing.settings import DEMO_JURISDICTION
from services.routing.usecases.accounts import Accounts
from services.routing.usecases.admin import JurisdictionAdmin
from services.routing.usecases.deadlines import Deadlines
from services.routing.usecases.events import IncomingReports
from services.routing.usecases.operator import OperatorCommands, OperatorQueries
from services.routing.usecases.photos import ResolutionPhotos
from services.routing.usecases.staff import StaffCommands, StaffQueries
from services.routing.usecases.workflow import Jurisdictions, Workflow
from shared.auth import Principal
from shared.events import GeoPoint, ReportCreatedV1
from shared.uow import FakeTransactions, Session

T0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
PHU_HOI = (107.599, 16.459)  # (lon, lat) inside the demo Phú Hội ward
PHU_HOI_AREAS = [
    AreaHit("phu-hoi", "ward"),
    AreaHit("thuan-hoa", "district"),
    AreaHit("hue-province", "province"),
]


class FakeJurisdictionStore:
    def __init__(self) -> None:
        self.document: Jurisdiction | None = None
        self.hits: dict[tuple[float, float], list[AreaHit]] = {PHU_HOI: PHU_HOI_AREAS}
        self.refuse: Exception | None = None  # raised by `save`, as the 2dsphere index would

    async def current(self, session: Session = None) -> Jurisdiction | None:
        return self.document

    async def save(self, j: Jurisdiction, session: Session = None) -> None:
        if self.refuse is not None:
            raise self.refuse
        self.document = j

    async def areas_containing(
        self, lon: float, lat: float, session: Session = None
    ) -> list[AreaHit]:
        return list(self.hits.get((lon, lat), []))


class FakeAssignmentStore:
    """Keeps copies, as a database would: a change not saved is not stored."""

    def __init__(self) -> None:
        self.rows: dict[str, tuple[Assignment, int]] = {}

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
        ids = [i for i, (a, _) in self.rows.items() if a.report_id == report_id]
        return await self.get(ids[0]) if ids else None

    async def insert(self, a: Assignment, session: Session = None) -> None:
        if await self.by_report(a.report_id) is not None:
            raise ChangedMeanwhile(a.id)
        self.rows[a.id] = (copy.deepcopy(a), 1)

    async def save(self, a: Assignment, rev: int, session: Session = None) -> None:
        if a.id not in self.rows or self.rows[a.id][1] != rev:
            raise ChangedMeanwhile(a.id)
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
        def matches(a: Assignment) -> bool:
            return (
                (f.agency_id is None or a.agency_id == f.agency_id)
                and (not f.statuses or a.status in f.statuses)
                and (not f.category or a.category == f.category)
                and (not f.report_id or a.report_id == f.report_id)
                and (f.overdue is None or a.overdue(now) == f.overdue)
            )

        found = sorted((a for a, _ in self.rows.values() if matches(a)), key=lambda a: a.due_at)
        return copy.deepcopy(found[: f.limit])

    async def overdue_ids(self, now: datetime, session: Session = None) -> list[str]:
        return [i for i, (a, _) in self.rows.items() if a.breached(now)]

    async def open_counts(
        self, now: datetime, session: Session = None
    ) -> tuple[dict[str, int], dict[str, int]]:
        opened: dict[str, int] = {}
        overdue: dict[str, int] = {}
        for a, _ in self.rows.values():
            if a.is_open():
                opened[a.agency_id] = opened.get(a.agency_id, 0) + 1
            if a.overdue(now):
                overdue[a.agency_id] = overdue.get(a.agency_id, 0) + 1
        return opened, overdue


class FakeAccountStore:
    def __init__(self) -> None:
        self.rows: dict[str, tuple[Account, str]] = {}

    async def login(self, username: str, session: Session = None) -> tuple[Account, str] | None:
        return self.rows.get(username)

    async def add_if_absent(
        self, account: Account, password_hash: str, session: Session = None
    ) -> None:
        self.rows.setdefault(account.username, (account, password_hash))

    async def put(self, account: Account, password_hash: str, session: Session = None) -> None:
        self.rows[account.username] = (account, password_hash)

    async def delete(self, username: str, session: Session = None) -> bool:
        return self.rows.pop(username, None) is not None

    async def all(self, session: Session = None) -> list[Account]:
        return [self.rows[u][0] for u in sorted(self.rows)]

    async def usernames(self, session: Session = None) -> set[str]:
        return set(self.rows)


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


def staff(agency_id: str) -> Principal:
    return Principal(sub=agency_id, scopes=["staff"], agency_id=agency_id)


OPERATOR = Principal(sub="operator", scopes=["operator"])


@dataclass
class Routing:
    """Every use case, wired as `app.py` wires them, over fakes."""

    clock: Clock = field(default_factory=Clock)
    tx: FakeTransactions = field(default_factory=lambda: FakeTransactions("/fieldreports/routing"))
    jurisdiction_store: FakeJurisdictionStore = field(default_factory=FakeJurisdictionStore)
    assignments: FakeAssignmentStore = field(default_factory=FakeAssignmentStore)
    account_store: FakeAccountStore = field(default_factory=FakeAccountStore)
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
        self.accounts = Accounts(
            self.account_store,
            self.jurisdictions,
            demo_logins=self.demo_logins,
            hasher=PlainHasher(),
        )
        self.admin = JurisdictionAdmin(self.tx, self.jurisdictions, self.accounts, self.clock)
        ids = (f"a{i}" for i in itertools.count(1))
        self.reports = IncomingReports(self.work, new_id=lambda: next(ids))
        self.staff_queries = StaffQueries(self.work)
        self.staff = StaffCommands(self.work, self.photos)
        self.operator_queries = OperatorQueries(self.work)
        self.operator = OperatorCommands(self.work)
        self.deadlines = Deadlines(self.work)

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
        report = ReportCreatedV1(
            report_id=report_id,
            category=category,
            location=GeoPoint(lon=point[0], lat=point[1]),
            description="test",
            created_at=self.clock(),
            contact_sealed="sealed",
        )
        await self.tx.run(lambda uow: self.reports.created(report, sequence, uow))
        found = await self.assignments.by_report(report_id)
        assert found is not None
        return found[0]
