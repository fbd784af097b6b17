"""Finding 6: "+1" counts once per anonymous resident token that intake signed and issues a few
of per client address; the caller's own headers (X-Client-Id, User-Agent) no longer decide."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest

from tests.conftest import Infra
from tests.security.intake_stack import Isolated, client, filed, running_intake


@pytest.fixture(scope="module")
async def stack(infra: Infra) -> AsyncIterator[Isolated]:
    async with running_intake(infra, "secsupport", rate_limit_resident_token_burst=3) as run:
        yield run


async def a_token(run: Isolated, ip: str = "10.1.1.1") -> str:
    async with client(run, ip) as http:
        issued = await http.post("/api/v1/residents")
    assert issued.status_code == 201, issued.text
    token: str = issued.json()["resident_token"]
    return token


async def test_support_without_a_resident_token_is_401(stack: Isolated) -> None:
    async with client(stack, "10.1.0.1") as http:
        rid = (await filed(http))["id"]
        answer = await http.post(f"/api/v1/reports/{rid}/support")
    assert (answer.status_code, answer.json()["error"]["code"]) == (401, "resident_token_required")


async def test_varied_client_headers_with_one_resident_token_count_once(stack: Isolated) -> None:
    token = await a_token(stack, "10.1.0.2")
    async with client(stack, "10.1.0.2") as http:
        rid = (await filed(http))["id"]
        codes = [
            (
                await http.post(
                    f"/api/v1/reports/{rid}/support",
                    headers={
                        "X-Resident-Token": token,
                        "X-Client-Id": f"install-{i}",
                        "User-Agent": f"agent-{i}",
                    },
                )
            ).status_code
            for i in range(8)
        ]
        view = (await http.get(f"/api/v1/reports/{rid}")).json()
    assert codes == [200] + [409] * 7
    assert view["supporters"] == 1
    events = {"subject": rid, "type": "report.supported"}
    assert await stack.db.outbox.count_documents(events) == 1


async def test_two_residents_count_twice(stack: Isolated) -> None:
    first, second = await a_token(stack, "10.1.0.3"), await a_token(stack, "10.1.0.4")
    async with client(stack, "10.1.0.3") as http:
        rid = (await filed(http))["id"]
        for token in (first, second):
            await http.post(f"/api/v1/reports/{rid}/support", headers={"X-Resident-Token": token})
        assert (await http.get(f"/api/v1/reports/{rid}")).json()["supporters"] == 2


@pytest.mark.parametrize(
    "forge",
    [
        lambda t: t[:-2] + ("AA" if not t.endswith("AA") else "BB"),  # altered MAC
        lambda t: t.replace(t.split(".")[1], "0" * 32),  # another id under the same MAC
        lambda t: t.replace(t.split(".")[2], str(int(t.split(".")[2]) + 1)),  # another time
        lambda t: "r1.00000000000000000000000000000000.1.x",
    ],
)
async def test_a_forged_or_altered_resident_token_is_401(stack: Isolated, forge: object) -> None:
    ip = f"10.1.5.{uuid.uuid4().int % 250}"
    token = await a_token(stack, ip)
    async with client(stack, ip) as http:
        rid = (await filed(http))["id"]
        answer = await http.post(
            f"/api/v1/reports/{rid}/support",
            headers={"X-Resident-Token": forge(token)},  # type: ignore[operator]
        )
    assert (answer.status_code, answer.json()["error"]["code"]) == (401, "invalid_resident_token")


async def test_one_client_address_gets_only_a_few_resident_tokens(stack: Isolated) -> None:
    async with client(stack, "10.1.0.6") as http:
        codes = [(await http.post("/api/v1/residents")).status_code for _ in range(5)]
    assert codes == [201, 201, 201, 429, 429]
