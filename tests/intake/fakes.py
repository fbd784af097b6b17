"""In-memory stores with the methods of the real ones (`services/intake/stores`, the shared
`CatalogCopy` and `PhotoStore`), and the wiring of intake's use cases over them: use-case tests
run with `FakeTransactions` and no I/O."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from prometheus_client import CollectorRegistry

from services.intake.domain.filters import FeedFilter, FeedSlice, RequestFilter
from services.intake.domain.idempotency import IdempotencyRecord
from services.intake.domain.ratelimit import TokenBuckets
from services.intake.domain.report import Report, TimelineEntry
from services.intake.domain.rules import distance_m
from services.intake.metrics import IntakeMetrics
from services.intake.usecases import Intake
from services.intake.usecases.create import FileReport, PhotoRules
from services.intake.usecases.events import ConsumedEvents
from services.intake.usecases.open311 import Open311
from services.intake.usecases.queries import Queries
from services.intake.usecases.quotas import CREATE, Quota, Quotas
from services.intake.usecases.resident import ResidentActions, ResidentTokens
from services.intake.usecases.upkeep import Upkeep
from shared.catalog import CatalogV1
from shared.crypto import PiiBox
from shared.events import OPEN_STATUSES, Status
from shared.uow import FakeTransactions

T0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
PII_KEY = "ZmFrZS10ZXN0LXBpaS1rZXktMzItYnl0ZXMtbG9uZyE="
ROUTING = "/fieldreports/routing"
INTAKE = "/fieldreports/intake"


def a_report(report_id: str = "r1", **over: Any) -> Report:
    base = Report(
        id=report_id,
        category="pothole",
        category_name={"vi": "Ổ gà", "en": "Pothole"},
        description="ổ gà",
        address=None,
        lat=16.46,
        lon=107.59,
        language="vi",
        channel="api",
        status=Status.RECEIVED,
        status_at=T0,
        created_at=T0,
        updated_at=T0,
        announced_at=T0,
    )
    return replace(base, **over)


class FakeReports:
    def __init__(self, *reports: Report) -> None:
        self.by_id: dict[str, Report] = {r.id: r for r in reports}
        self.saves = 0
        self.writes = 0  # write round trips (save: one each, save_many: one per call)
        self.reads = 0  # get_many round trips

    async def get(self, report_id: str, session: Any = None) -> Report | None:
        return self.by_id.get(report_id)

    async def get_many(self, report_ids: Iterable[str], session: Any = None) -> dict[str, Report]:
        self.reads += 1
        return {i: self.by_id[i] for i in set(report_ids) if i in self.by_id}

    async def insert(self, report: Report, session: Any = None) -> None:
        assert report.id not in self.by_id
        self.by_id[report.id] = report

    async def save(self, before: Report, after: Report, session: Any = None) -> None:
        self.saves += 1
        self.writes += 1
        self.by_id[after.id] = after

    async def save_many(
        self, changes: Sequence[tuple[Report, Report]], session: Any = None
    ) -> None:
        if changes:
            self.writes += 1
        for _, after in changes:
            self.saves += 1
            self.by_id[after.id] = after

    async def nearby(
        self, lat: float, lon: float, radius_m: float, category: str | None, limit: int
    ) -> list[Report]:
        near = [
            r
            for r in self.by_id.values()
            if r.status in OPEN_STATUSES
            and (category is None or r.category == category)
            and distance_m(lat, lon, r.lat, r.lon) <= radius_m
        ]
        return sorted(near, key=lambda r: distance_m(lat, lon, r.lat, r.lon))[:limit]

    async def feed(
        self, where: FeedFilter, limit: int, after: tuple[datetime, str] | None
    ) -> FeedSlice:
        found = [
            r
            for r in self._newest_first()
            if where.admits(r) and (after is None or (r.created_at, r.id) < after)
        ]
        return FeedSlice(found[:limit])

    async def page(self, where: RequestFilter, skip: int, limit: int) -> list[Report]:
        found = [
            r for r in self._newest_first() if (r.id in where.ids if where.ids else where.admits(r))
        ]
        return found[skip : skip + limit]

    async def timelines_in(
        self, start: datetime, end: datetime, limit: int
    ) -> list[tuple[str, list[TimelineEntry]]]:
        found = [
            (r.id, list(r.timeline))
            for r in sorted(self.by_id.values(), key=lambda r: r.id)
            if any(start <= (e.recorded_at or e.at) <= end for e in r.timeline)
        ]
        return found[:limit]

    async def stale_received(self, before: datetime, limit: int = 100) -> list[str]:
        return [
            r.id
            for r in self.by_id.values()
            if r.status == Status.RECEIVED and r.announced_at <= before
        ][:limit]

    async def resolved_before(self, before: datetime, limit: int = 100) -> list[str]:
        return [
            r.id
            for r in self.by_id.values()
            if r.status == Status.RESOLVED and r.resolved_at and r.resolved_at <= before
        ][:limit]

    async def catch_up(self) -> int:
        return 0

    def _newest_first(self) -> list[Report]:
        return sorted(self.by_id.values(), key=lambda r: (r.created_at, r.id), reverse=True)


class FakeKeys:
    def __init__(self) -> None:
        self.records: dict[str, IdempotencyRecord] = {}

    async def get(self, key: str) -> IdempotencyRecord | None:
        return self.records.get(key)

    async def add(self, record: IdempotencyRecord, session: Any = None) -> bool:
        if record.key in self.records:
            return False
        self.records[record.key] = record
        return True


class FakeSupports:
    def __init__(self) -> None:
        self.keys: set[str] = set()

    async def add(self, report_id: str, client: str, at: datetime, session: Any = None) -> bool:
        key = f"{report_id}:{client}"
        if key in self.keys:
            return False
        self.keys.add(key)
        return True


class FakeCatalog:
    """The stored copy (`catalog`) and the one in memory (`held`, read again after 60 s of
    `monotonic`), like `shared.catalog_copy.CatalogCopy`."""

    def __init__(self, catalog: CatalogV1 | None = None) -> None:
        self.catalog = catalog
        self.loads = 0
        self.held: CatalogV1 | None = None
        self.read_at = -1e9
        self.monotonic = 0.0

    async def current(self) -> CatalogV1 | None:
        if self.held is None or self.monotonic - self.read_at >= 60:
            self.remember(await self.load())
            self.read_at = self.monotonic
        return self.held

    def remember(self, catalog: CatalogV1 | None) -> None:
        if catalog is not None and (self.held is None or catalog.version > self.held.version):
            self.held = catalog

    async def save(self, catalog: CatalogV1, session: Any) -> bool:
        if self.catalog and self.catalog.version >= catalog.version:
            return False
        self.catalog = catalog
        return True

    async def load(self, session: Any = None) -> CatalogV1 | None:
        self.loads += 1
        return self.catalog


@dataclass
class FakeFile:
    data: bytes
    content_type: str
    owner: str
    uploaded_at: datetime
    pending: bool = True


class FakePhotos:
    def __init__(self, now: datetime = T0) -> None:
        self.files: dict[str, FakeFile] = {}
        self.now = now

    async def put_pending(
        self, data: bytes, content_type: str, owner: str, file_id: str | None = None
    ) -> str:
        assert file_id
        self.files[file_id] = FakeFile(data, content_type, owner, self.now)
        return file_id

    async def confirm(self, file_ids: Sequence[str], session: Any) -> None:
        for file_id in file_ids:
            self.files[file_id].pending = False

    async def discard(self, file_ids: Sequence[str]) -> None:
        for file_id in file_ids:
            if file_id in self.files and self.files[file_id].pending:
                del self.files[file_id]

    async def sweep_once(self, uploaded_before: datetime, limit: int = 200) -> int:
        old = [i for i, f in self.files.items() if f.pending and f.uploaded_at <= uploaded_before]
        for file_id in old[:limit]:
            del self.files[file_id]
        return len(old[:limit])

    async def get(self, file_id: str) -> tuple[bytes, str] | None:
        f = self.files.get(file_id)
        return None if f is None or f.pending else (f.data, f.content_type)


@dataclass
class World:
    """Intake's use cases over fakes, with everything a test may look at."""

    tx: FakeTransactions
    reports: FakeReports
    keys: FakeKeys
    supports: FakeSupports
    catalog: FakeCatalog
    photos: FakePhotos
    registry: CollectorRegistry
    intake: Intake
    clock: list[datetime] = field(default_factory=lambda: [T0])

    def value(self, name: str, **labels: str) -> float:
        """A metric's current value (0 when never set)."""
        return self.registry.get_sample_value(name, labels) or 0.0


def world(catalog: CatalogV1 | None, *reports: Report, burst: int = 2) -> World:
    tx, store, photos = FakeTransactions(INTAKE), FakeReports(*reports), FakePhotos()
    keys, supports, copy = FakeKeys(), FakeSupports(), FakeCatalog(catalog)
    registry = CollectorRegistry()
    metrics = IntakeMetrics(registry)
    clock = [T0]

    def now() -> datetime:
        return clock[0]

    queries = Queries(store, copy, photos, nearby_max_radius_m=5000)
    rules = PhotoRules(max_count=5, max_bytes=1 << 20, max_pixels=10**7, thumb_px=64)
    box = PiiBox(PII_KEY)
    create = FileReport(
        tx,
        store,
        keys,
        photos,
        queries,
        box,
        metrics,
        now,
        photo_rules=rules,
        public_base_url="http://intake/",
        duplicate_radius_m=150,
    )
    intake = Intake(
        file_report=create,
        quotas=Quotas({CREATE: Quota(TokenBuckets(burst, 1, clock=lambda: 0.0), metrics)}),
        resident=ResidentActions(tx, store, supports, now),
        residents=ResidentTokens(b"k" * 32, now, timedelta(days=180)),
        queries=queries,
        open311=Open311(
            create, queries, store, api_keys=frozenset({"k"}), max_page_size=10, max_updates=3
        ),
        events=ConsumedEvents(store, copy, now, own_source=INTAKE),
        upkeep=Upkeep(
            tx,
            store,
            photos,
            metrics,
            now,
            reconcile_after=timedelta(minutes=5),
            autoclose_after=timedelta(days=7),
            photo_grace=timedelta(minutes=15),
        ),
        city_zone=ZoneInfo("Asia/Ho_Chi_Minh"),
    )
    return World(tx, store, keys, supports, copy, photos, registry, intake, clock)
