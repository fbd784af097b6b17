"""Finding 15: the absolute links intake answers with (Open311 discovery, `media_url` of a
request's photo) come from PUBLIC_BASE_URL, never from the request's Host header."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.conftest import Infra
from tests.security.intake_stack import Isolated, client, edge_client, filed, running_intake

PUBLIC = "https://reports.city.example"
EVIL = {"Host": "attacker.example", "X-Forwarded-Host": "attacker.example"}


@pytest.fixture(scope="module")
async def stack(infra: Infra) -> AsyncIterator[Isolated]:
    async with running_intake(infra, "seclinks", public_base_url=PUBLIC) as run:
        yield run


def test_open311_discovery_links_to_the_public_base_url_whatever_the_host() -> None:
    answer = edge_client(public_base_url=PUBLIC).get("/open311/v2/discovery.json", headers=EVIL)
    assert [e["url"] for e in answer.json()["endpoints"]] == [f"{PUBLIC}/open311/v2"]


async def test_a_request_media_url_is_on_the_public_base_url_whatever_the_host(
    stack: Isolated,
) -> None:
    async with client(stack, "10.2.0.1") as http:
        rid = (await filed(http, photo=True))["id"]
        answer = await http.get(f"/open311/v2/requests/{rid}.json", headers=EVIL)
    media_url = answer.json()[0]["media_url"]
    assert media_url.startswith(f"{PUBLIC}/api/v1/photos/"), media_url
