"""What intake's own work costs the database, counted with the profiler on an intake of its
own: a create (JSON, no photo, no Idempotency-Key) and routing's lifecycle events, a polled
batch at a time.

Commits are not recorded by the profiler (one per unit of work on top of these counts). The
outbox relay's own operations (claim, lease, mark sent) are counted apart: they are per relay
batch, not per report."""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta

import pytest

from shared.catalog import CatalogV1
from shared.events import ReportAcceptedV1, ReportAssignedV1, Topic, utcnow
from tests.conftest import Infra
from tests.intake.conftest import CATALOG, catalog_event, lifecycle, report_body
from tests.intake.isolated import PROBE, Isolated, isolated_intake, kind
from tests.support import eventually

N = 60  # reports, and events of each lifecycle type


@pytest.fixture(scope="module")
async def costed(infra: Infra) -> AsyncIterator[Isolated]:
    async with isolated_intake(infra, "intakecost") as run:
        yield run


async def _count_during(run: Isolated, action: Callable[[], Awaitable[None]]) -> Counter[str]:
    """The operations recorded while `action` ran (the outbox drained before and after)."""
    await run.profiling()
    await action()
    await eventually(run.outbox_drained, what="outbox drained")
    return Counter(kind(e) for e in await run.recorded())


async def _create(run: Isolated, n: int) -> list[str]:
    ids = []
    async with run.client() as client:
        for i in range(n):
            body = report_body(lat=16.40 + i * 0.00001, lon=107.55)
            r = await client.post("/api/v1/reports", json=body)
            assert r.status_code == 201, r.text
            ids.append(r.json()["id"])
    return ids


def _report(title: str, kinds: Counter[str], per: int) -> float:
    own = sum(v for k, v in kinds.items() if k != "relay")
    print(f"\n{title}: {own} ops for {per} ({own / per:.2f} each) + relay {kinds['relay']}")
    for k, v in kinds.most_common():
        print(f"   {k}: {v}")
    return own / per


async def test_a_create_costs_three_operations_and_its_commit(costed: Isolated) -> None:
    async def create() -> None:
        await _create(costed, N)

    kinds = await _count_during(costed, create)
    each = _report("create", kinds, N)
    # the duplicate lookup, the report, its outbox entry (no catalogue read, no counter)
    assert each <= 3
    assert kinds["find catalog"] == kinds["findAndModify sequences"] == 0
    # no Idempotency-Key header: its collection is not touched
    assert kinds["find idempotency_keys"] == kinds["insert idempotency_keys"] == 0


async def test_a_batch_of_lifecycle_events_costs_four_operations(costed: Isolated) -> None:
    ids = await _create(costed, N)
    now = utcnow()

    async def publish_all() -> None:
        for seq, rid in enumerate(ids):
            assigned = ReportAssignedV1(
                report_id=rid,
                assignment_id=f"as-{seq}",
                agency_id="roads",
                agency_name="Roads",
                category="pothole",
                due_at=now + timedelta(days=3),
                attempt=1,
                assigned_at=now,
            )
            await costed.publish(lifecycle(rid, Topic.REPORT_ASSIGNED, 1, assigned))
            started = ReportAcceptedV1(
                report_id=rid, assignment_id=f"as-{seq}", agency_id="roads", at=now
            )
            await costed.publish(lifecycle(rid, Topic.REPORT_IN_PROGRESS, 2, started))
        await costed.producer.flush()

        async def all_started() -> bool:
            n: int = await costed.db.reports.count_documents(
                {"_id": {"$in": ids}, "status": "in_progress"}, comment=PROBE
            )
            return n == len(ids)

        await eventually(all_started, timeout=60, what="every report in progress")

    kinds = await _count_during(costed, publish_all)
    each = _report("lifecycle", kinds, 2 * N)
    batches = kinds["insert inbox"]
    # per polled batch: the inbox insert, one read of the reports, one write
    assert sum(v for k, v in kinds.items() if k != "relay") <= 3 * batches
    assert each <= 0.5


async def test_a_newer_catalogue_is_served_from_memory_once_consumed(costed: Isolated) -> None:
    newer = CatalogV1.model_validate(
        {
            **CATALOG.model_dump(),
            "version": CATALOG.version + 1,
            "categories": [
                *CATALOG.model_dump()["categories"],
                {
                    "code": "flood",
                    "name": {"vi": "Ngập", "en": "Flood"},
                    "group": "water",
                    "deadline_hours": 6,
                },
            ],
        }
    )
    await costed.publish(catalog_event(newer))
    await costed.producer.flush()

    async with costed.client() as client:

        async def flood_listed() -> bool:
            codes = {c["code"] for c in (await client.get("/api/v1/categories")).json()["items"]}
            return "flood" in codes

        # well within the 60 s after which the memory would read the database again
        await eventually(flood_listed, timeout=20, what="the new catalogue served")

        async def create_flood() -> None:
            r = await client.post("/api/v1/reports", json=report_body(category="flood"))
            assert r.status_code == 201, r.text

        kinds = await _count_during(costed, create_flood)
    assert kinds["find catalog"] == 0
