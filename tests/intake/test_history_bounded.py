"""With 20,000 reports stored in the same few cells, what the create path and the recurring reads
ask of the database stays bounded by what they are about (the open reports nearby, the newest
page, the window polled, the reports due), not by what is stored: each query they send is
explained on the embedded database and must scan an index and examine few documents.

The history is bulk-inserted through the store's own document mapping (`to_document`): closed
reports over the last year around one point, and a few open ones among them."""

from __future__ import annotations

import random
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from pymongo.errors import BulkWriteError

from services.intake.domain.report import Report, TimelineEntry
from services.intake.stores.documents import to_document
from shared.events import Status, utcnow
from shared.mongo import Document
from tests.conftest import Infra
from tests.intake.fakes import a_report
from tests.intake.isolated import PROBE, Isolated, isolated_intake, kind

HISTORY = 20_000
OPEN = 30
SPOT = {"lat": 16.4637, "lon": 107.5909}


def _around(rng: random.Random, metres: float) -> tuple[float, float]:
    d = metres / 111_320
    return SPOT["lat"] + rng.uniform(-d, d), SPOT["lon"] + rng.uniform(-d, d)


def _history(rng: random.Random) -> list[Document]:
    now = utcnow()
    docs = []
    for i in range(HISTORY + OPEN):
        lat, lon = _around(rng, 120)
        created = now - timedelta(days=rng.uniform(0.1, 365))
        still_open = i < OPEN
        entry = TimelineEntry(
            event_id=str(uuid.uuid4()),
            type="report.assigned",
            status="assigned",
            at=created + timedelta(minutes=5),
            agency_name="Roads",
            recorded_at=created + timedelta(minutes=5),
        )
        report: Report = replace(
            a_report(str(uuid.uuid4())),
            lat=lat,
            lon=lon,
            status=Status.ASSIGNED if still_open else Status.CLOSED,
            created_at=created,
            status_at=created,
            updated_at=created,
            announced_at=created,
            timeline=(entry,),
            sequence=1,
        )
        docs.append(to_document(report))
    return docs


@pytest.fixture(scope="module")
async def crowded(infra: Infra) -> AsyncIterator[Isolated]:
    async with isolated_intake(infra, "intakehist") as run:
        docs = _history(random.Random(11))
        for start in range(0, len(docs), 1000):
            try:
                await run.db.reports.insert_many(docs[start : start + 1000], ordered=False)
            except BulkWriteError as exc:  # a retried write (the driver's) finds its first try
                if {e["code"] for e in exc.details["writeErrors"]} != {11000}:
                    raise
        assert await run.db.reports.count_documents({}, comment=PROBE) == len(docs)
        yield run


async def _reads_of_reports(
    run: Isolated, action: Callable[[], Awaitable[Any]]
) -> list[tuple[Document, int, list[str]]]:
    """Each query on `reports` that `action` made: (filter, documents it examines, plan)."""
    await run.profiling()
    await action()
    found = []
    for entry in await run.recorded():
        cmd = entry.get("command") or {}
        if kind(entry) not in ("find reports", "update reports") or "filter" not in cmd:
            continue
        explained = await run.db.command(
            {"explain": {"find": "reports", "filter": cmd["filter"]}, "verbosity": "executionStats"}
        )
        plan, stages = explained["queryPlanner"]["winningPlan"], []
        while plan:
            stages.append(str(plan.get("stage")))
            plan = plan.get("inputStage")
        found.append((cmd["filter"], explained["executionStats"]["totalDocsExamined"], stages))
    return found


def _bounded(reads: list[tuple[Document, int, list[str]]], most: int) -> None:
    assert reads, "no query on reports was recorded"
    for query, examined, stages in reads:
        print(f"\n  {examined:6d} examined {stages} {list(query)}")
        point = "_id" in query and len(query) == 1
        assert point or "IXSCAN" in stages, (query, stages)
        assert examined <= most, (query, examined)


async def test_a_create_reads_only_the_open_reports_of_its_cells(crowded: Isolated) -> None:
    body = {"category": "pothole", **SPOT, "description": "Ổ gà"}
    answers: list[Any] = []

    async def create() -> None:
        async with crowded.client() as client:
            answers.append(await client.post("/api/v1/reports", json=body))

    reads = await _reads_of_reports(crowded, create)
    assert answers[0].status_code == 201, answers[0].text
    duplicates = answers[0].json()["possible_duplicates"]
    assert len(duplicates) == 5
    assert all(d["distance_m"] <= 150 for d in duplicates)
    assert [q for q, _, _ in reads] == [reads[0][0]]  # one lookup, by cell
    _bounded(reads, OPEN + 5)


async def test_nearby_reads_only_the_open_reports_of_its_cells(crowded: Isolated) -> None:
    async def nearby() -> None:
        async with crowded.client() as client:
            r = await client.get("/api/v1/reports/nearby", params={**SPOT, "radius_m": 5000})
            assert len(r.json()["items"]) >= OPEN

    _bounded(await _reads_of_reports(crowded, nearby), OPEN + 5)


async def test_the_first_feed_page_reads_the_newest_reports_only(crowded: Isolated) -> None:
    async def feed() -> None:
        async with crowded.client() as client:
            page = (await client.get("/api/v1/reports", params={"limit": 20})).json()
            assert len(page["items"]) == 20
            assert page["next_cursor"]
            again = await client.get(
                "/api/v1/reports", params={"limit": 20, "cursor": page["next_cursor"]}
            )
            assert len(again.json()["items"]) == 20

    reads = await _reads_of_reports(crowded, feed)
    _bounded(reads, 200)
    assert sum(examined for _, examined, _ in reads) <= 400


async def test_a_feed_filter_that_keeps_little_reads_a_bounded_slice_and_says_where_to_go_on(
    crowded: Isolated,
) -> None:
    async def feed() -> None:
        async with crowded.client() as client:
            r = await client.get("/api/v1/reports", params={"category": "garbage"})
            assert r.json()["items"] == []
            assert r.json()["next_cursor"]  # the year of history is not read in one request

    reads = await _reads_of_reports(crowded, feed)
    assert sum(examined for _, examined, _ in reads) <= 3 * 2000


async def test_polling_two_hours_of_updates_reads_those_hours_only(crowded: Isolated) -> None:
    end = utcnow()
    window = {"start_date": (end - timedelta(hours=2)).isoformat(), "end_date": end.isoformat()}

    async def poll() -> None:
        async with crowded.client() as client:
            r = await client.get("/open311/v2/servicerequestupdates.json", params=window)
            assert r.status_code == 200, r.text

    _bounded(await _reads_of_reports(crowded, poll), 100)


async def test_housekeeping_reads_only_the_reports_it_may_change(crowded: Isolated) -> None:
    upkeep = crowded.app.state.intake.upkeep

    async def housekeeping() -> None:
        await upkeep.reconcile_once()
        await upkeep.autoclose_once()

    _bounded(await _reads_of_reports(crowded, housekeeping), 50)
