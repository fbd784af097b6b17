"""Finding 8, routing's part (issue 12): no body is read past its cap, and a body over the cap
is refused before the credential check: a JSON resolve stops at 64 KiB (the route's own cap is
sized for photos), the login form at the service's default cap."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import pytest

from tests.conftest import Infra
from tests.routing.conftest import PHU_HOI, Routing, running

MIB = 1024 * 1024


@pytest.fixture(scope="module")
async def routing(infra: Infra) -> AsyncIterator[Routing]:
    async with running(infra) as routing:
        yield routing


async def _chunks(total: int, size: int = 64 * 1024) -> AsyncIterator[bytes]:
    """A body sent in chunks, with no Content-Length: the cap must hold while it streams."""
    for _ in range(total // size):
        yield b"x" * size


async def test_a_json_resolve_over_64_kib_is_refused_with_413(routing: Routing) -> None:
    event = await routing.publish_created("sidewalk-encroachment", PHU_HOI)
    a = await routing.assignment(event.subject)
    body = json.dumps({"note": "n" * 100_000})
    answer = await routing.client.post(
        f"/api/v1/assignments/{a['id']}/resolve",
        content=body,
        headers={**await routing.auth("phu-hoi-ward"), "Content-Type": "application/json"},
    )
    assert (answer.status_code, answer.json()["error"]["code"]) == (413, "payload_too_large")


async def test_a_streamed_json_resolve_is_refused_after_64_kib(routing: Routing) -> None:
    event = await routing.publish_created("sidewalk-encroachment", PHU_HOI)
    a = await routing.assignment(event.subject)
    answer = await routing.client.post(
        f"/api/v1/assignments/{a['id']}/resolve",
        content=_chunks(30 * MIB),
        headers={**await routing.auth("phu-hoi-ward"), "Content-Type": "application/json"},
    )
    assert answer.status_code == 413


async def test_a_resolve_body_declared_over_the_route_cap_is_refused_before_the_token(
    routing: Routing,
) -> None:
    answer = await routing.client.post(
        "/api/v1/assignments/anything/resolve",
        content=b"x" * (27 * MIB),
        headers={"Content-Type": "application/json"},
    )
    assert answer.status_code == 413


async def test_a_login_form_over_the_default_cap_is_refused_before_the_password_check(
    routing: Routing,
) -> None:
    form = b"username=admin&password=" + b"x" * (2 * MIB)
    answer = await routing.client.post(
        "/api/v1/auth/token",
        content=form,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert answer.status_code == 413
