"""Routing's assignment queries on the real database: every queue filter returns what the filter
means (applied before the limit) while the database is asked only what one index answers
(its plan scans an index); bulk insert and save keep their guards; an assignment stored before
it kept its event counter continues the report's sequence."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from services.routing.domain.assignment import Assignment, AState, new_assignment
from services.routing.domain.errors import ChangedMeanwhile
from services.routing.domain.queue import QueueFilter
from services.routing.stores import INDEXES, AssignmentStore, now_ms
from services.routing.stores.assignments import to_doc
from shared.mongo import Document, ensure_indexes
from tests.conftest import Infra
from tests.perf.plans import bounded_without_index, plan_stages, queries_of
from tests.support import unique

NOW = now_ms()
AGENCIES = ["ward", "district", "ioc"]
CATEGORIES = ["pothole", "garbage"]


def _assignment(n: int) -> Assignment:
    a = new_assignment(
        assignment_id=f"a{n}",
        report_id=f"r{n}",
        category=CATEGORIES[n % 2],
        lon=107.6,
        lat=16.46,
        agency_id=AGENCIES[n % 3],
        at=NOW - timedelta(hours=100),
        due_at=NOW - timedelta(hours=100 - n),  # a distinct due time each, half of them past
        reason="rule",
        rule_id=None,
        area_id=None,
    )
    a.status = list(AState)[n % len(AState)]
    return a


ALL = [_assignment(n) for n in range(1, 201)]


@pytest.fixture(scope="module")
async def db(infra: Infra) -> AsyncIterator[AsyncDatabase[Document]]:
    client: AsyncMongoClient[Document] = AsyncMongoClient(infra.mongodb_uri, tz_aware=True)
    database = client[unique("routing_queries_")]
    await ensure_indexes(database, INDEXES)
    await AssignmentStore(database).insert_absent(ALL)
    await database.command("profile", 2)
    yield database
    await client.drop_database(database.name)
    await client.close()


FILTERS = [
    QueueFilter(agency_id, statuses, category, None, overdue, limit)
    for agency_id, statuses, category, overdue, limit in itertools.product(
        [None, "ward"],
        [None, ["assigned"], ["assigned", "resolved"], ["assigned", "accepted", "in_progress"]],
        [None, "garbage"],
        [None, True, False],
        [7, 200],
    )
] + [QueueFilter(report_id="r5"), QueueFilter(agency_id="ward", report_id="r6")]


async def test_every_queue_filter_is_applied_before_the_limit(
    db: AsyncDatabase[Document],
) -> None:
    store = AssignmentStore(db)
    for f in FILTERS:
        expected = sorted((a for a in ALL if f.matches(a, NOW)), key=lambda a: a.due_at)
        found = await store.query(f, NOW)
        assert [a.id for a in found] == [a.id for a in expected[: f.limit]], f


async def test_every_query_is_served_by_an_index(db: AsyncDatabase[Document]) -> None:
    store = AssignmentStore(db)
    for f in FILTERS:
        await store.query(f, NOW)
    await store.open_due_times()
    await store.overdue_due_times(NOW)
    await store.by_reports(["r1", "r2"])
    await store.duplicates_of("r1")
    shapes = {
        q.shape: q
        async for entry in db["system.profile"].find({"ns": f"{db.name}.assignments"})
        for q in queries_of(entry)
    }
    scans = [
        shape
        for shape, q in shapes.items()
        if not bounded_without_index(q) and "IXSCAN" not in await plan_stages(db, q)
    ]
    assert (scans, len(shapes) > 8) == ([], True)


async def test_insert_absent_leaves_an_existing_assignment_alone(
    db: AsyncDatabase[Document],
) -> None:
    store = AssignmentStore(db)
    again = _assignment(1)
    again.agency_id = "elsewhere"
    fresh = _assignment(1001)
    assert await store.insert_absent([again, fresh]) == {"r1001"}
    assert (await store.by_reports(["r1", "r1001"]))["r1"][0].agency_id == AGENCIES[1]


async def test_insert_refuses_a_report_that_has_an_assignment(
    db: AsyncDatabase[Document],
) -> None:
    store = AssignmentStore(db)
    with pytest.raises(ChangedMeanwhile):
        await store.insert([_assignment(1002), _assignment(3)])
    await store.insert([_assignment(1003), _assignment(1004)])
    assert set(await store.by_reports(["r1003", "r1004"])) == {"r1003", "r1004"}


async def test_a_stale_revision_refuses_the_whole_save(db: AsyncDatabase[Document]) -> None:
    store = AssignmentStore(db)
    (a, rev), (b, _) = (await store.by_reports(["r2", "r3"])).values()
    a.note = b.note = "changed"

    async def work(session: object) -> None:
        await store.save_many([(a, rev), (b, 99)], session)  # type: ignore[arg-type]

    async with db.client.start_session() as session:
        with pytest.raises(ChangedMeanwhile):
            await session.with_transaction(lambda s: work(s))
    stored = await store.by_reports(["r2", "r3"])
    assert [x.note for x, _ in stored.values()] == [None, None]


async def test_an_assignment_stored_before_its_counter_continues_the_report_sequence(
    db: AsyncDatabase[Document],
) -> None:
    store = AssignmentStore(db)
    legacy = to_doc(_assignment(2001), 3)
    del legacy["event_seq"]
    await db["assignments"].insert_one(legacy)
    await db["sequences"].insert_one({"_id": "r2001", "seq": 4})
    found = await store.get("a2001")
    assert found is not None
    a, rev = found
    assert (a.event_seq, a.next_sequence(), rev) == (4, 5, 3)
    assert (await store.by_report("r2001")) is not None
    assert (await store.by_reports(["r2001"]))["r2001"][0].event_seq == 4


async def test_overdue_due_times_are_the_open_assignments_due_before_now(
    db: AsyncDatabase[Document],
) -> None:
    found = await AssignmentStore(db).overdue_due_times(NOW)
    expected = sorted(a.id for a in ALL if a.overdue(NOW))
    assert sorted(d.assignment_id for d in found) == expected
