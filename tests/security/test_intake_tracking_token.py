"""Finding 16: the tracking token is taken from the X-Tracking-Token header only; in the URL
query (where proxy logs and Referer headers keep it) it is refused, never used."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.conftest import Infra
from tests.security.intake_stack import Isolated, client, filed, running_intake

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
async def stack(infra: Infra) -> AsyncIterator[Isolated]:
    async with running_intake(infra, "sectoken") as run:
        yield run


async def test_a_tracking_token_in_the_query_is_refused(stack: Isolated) -> None:
    async with client(stack, "10.3.0.1") as http:
        created = await filed(http)
        rid, token = created["id"], created["tracking_token"]
        answer = await http.get(f"/api/v1/reports/{rid}/timeline", params={"token": token})
    assert answer.status_code == 422
    assert answer.json()["error"]["details"][0]["field"] == "token"


async def test_the_tracking_token_in_the_header_opens_the_timeline(stack: Isolated) -> None:
    async with client(stack, "10.3.0.2") as http:
        created = await filed(http)
        answer = await http.get(
            f"/api/v1/reports/{created['id']}/timeline",
            headers={"X-Tracking-Token": created["tracking_token"]},
        )
    assert answer.status_code == 200


def test_the_web_app_sends_the_token_only_in_the_header() -> None:
    api = (ROOT / "services/intake/web/static/api.js").read_text()
    assert "h['X-Tracking-Token'] = token;" in api
    assert "?token=" not in api
