"""Corrections of a report's category on the real broker and database: the statistics count
the report once, under its corrected category, and `/corrections` counts the corrections the
same way from the rollups and from a date window's facts."""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest

from services.analytics.app import build_app
from shared.kafka import all_topics, ensure_topics
from tests.analytics.conftest import Running, analytics_settings, consumed
from tests.analytics.factory import Story, catalog_event
from tests.conftest import Infra
from tests.support import eventually, serving, unique, wait_ready

DAY = {"from": "2025-03-03", "to": "2025-03-03"}


def corrected(report_id: str, agency: str) -> Story:
    story = Story(report_id).created(chosen_by="resident").assigned(5, "dot")
    return story.recategorized(10, "flood").assigned(11, agency, attempt=2)


@pytest.fixture(scope="module")
async def loaded(infra: Infra) -> AsyncIterator[Running]:
    prefix = f"t{uuid.uuid4().hex[:10]}."
    await ensure_topics(infra.kafka, all_topics(prefix), partitions=3)
    settings = analytics_settings(infra, prefix, unique("analytics_recat_"))
    app = build_app(settings)
    async with serving(app) as client:
        await wait_ready(client)
        running = Running(settings, client, app.state.runtime)
        stories = [corrected("r1", "water"), corrected("r2", "water"), corrected("r3", "dot")]
        stories.append(Story("r4").created().assigned(5, "dot"))
        events = [catalog_event(1, "Department of Transport")]
        events += [e for s in stories for e in reversed(s.events)]  # correction first
        before = consumed(running)
        await running.publish(*events)

        async def all_consumed() -> bool:
            return consumed(running) >= before + len(events)

        await eventually(all_consumed, what="every event consumed")
        yield running


async def get(running: Running, path: str, **params: Any) -> Any:
    response = await running.client.get(path, params={"lang": "en", **params})
    assert response.status_code == 200, response.text
    return response.json()


async def test_a_corrected_report_counts_once_under_its_corrected_category(
    loaded: Running,
) -> None:
    summary = await get(loaded, "/api/v1/stats/summary")
    assert (summary["total"], summary["by_category"]) == (4, {"flood": 3, "pothole": 1})


async def test_corrections_are_counted_per_filed_and_corrected_category_and_agency(
    loaded: Running,
) -> None:
    body = await get(loaded, "/api/v1/stats/corrections")
    assert [
        (i["from_category"], i["to_category"], i["agency_id"], i["count"]) for i in body["items"]
    ] == [
        ("pothole", "flood", "water", 2),
        ("pothole", "flood", "dot", 1),
    ]
    assert body["items"][0]["chosen_by"] == "resident"
    assert [
        (r["category"], r["filed"], r["corrected"], r["corrected_pct"]) for r in body["by_category"]
    ] == [("pothole", 4, 3, 75.0)]


async def test_a_date_window_counts_corrections_as_the_rollups_do(loaded: Running) -> None:
    windowed = await get(loaded, "/api/v1/stats/corrections", **DAY)
    assert windowed == await get(loaded, "/api/v1/stats/corrections")


async def test_corrections_as_csv(loaded: Running) -> None:
    response = await loaded.client.get("/api/v1/stats/corrections.csv", params={"lang": "en"})
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [(r["from_category_name"], r["to_category_name"], r["count"]) for r in rows] == [
        ("Pothole", "Flooding", "2"),
        ("Pothole", "Flooding", "1"),
    ]
