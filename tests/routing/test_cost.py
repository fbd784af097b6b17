"""What routing costs its database, counted with the profiler (plus one commit per transaction,
which the profiler does not record): per report in a burst and alone, per staff command, per
safety-net pass, and nothing while idle. The safety nets run at their default pace here."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from typing import Any

import pytest
from bson import ObjectId

from shared.events import Topic
from shared.mongo import Document
from tests.conftest import Infra
from tests.routing.conftest import PHU_HOI, Routing, bearer, running
from tests.support import eventually

BURST = 100


@pytest.fixture(scope="module")
async def quiet(infra: Infra) -> AsyncIterator[Routing]:
    """Routing with the relay's poll at its default (a 30 s safety net, woken by commits)."""
    async with running(infra, outbox_poll_interval_s=30.0) as routing:
        await routing.db.command("profile", 2)
        await routing.drained()
        yield routing


class Ops:
    """The operations routing sent since `start` (the profiler's entries, in order)."""

    def __init__(self, routing: Routing) -> None:
        self.profile = routing.db["system.profile"]
        self.since = ObjectId("0" * 24)

    async def start(self) -> Ops:
        last = await self.profile.find_one({}, sort=[("_id", -1)])
        if last:
            self.since = last["_id"]
        return self

    async def entries(self) -> list[Document]:
        return await self.profile.find({"_id": {"$gt": self.since}}).sort("_id", 1).to_list()

    async def settled(self) -> list[Document]:
        """The entries once no new one has arrived for a moment (a relay pass ended)."""
        seen = [-1]

        async def still() -> tuple[list[Document]] | None:
            now = await self.entries()
            done = len(now) == seen[0]
            seen[0] = len(now)
            return (now,) if done else None

        return (await eventually(still, interval=1.0, what="routing idle"))[0]

    async def sent(self) -> int:
        """Outbox entries marked sent by the relay since `start`."""
        return sum(
            len(u["q"]["_id"]["$in"])
            for e in await self.entries()
            if e["op"] == "update" and e["ns"].endswith(".outbox")
            for u in e["command"]["updates"]
            if u["u"].get("$set", {}).get("status") == "sent"
        )

    async def until_sent(self, count: int) -> list[Document]:
        async def all_sent() -> bool:
            return await self.sent() >= count

        await eventually(all_sent, timeout=60, what=f"{count} events sent")
        return await self.settled()


def total(entries: list[Document]) -> int:
    """Operations: each recorded one, plus the commit of each transaction."""
    return len(entries) + sum(1 for e in entries if e["command"].get("startTransaction"))


def breakdown(entries: list[Document]) -> dict[str, int]:
    kinds = Counter(f"{e['op']} {e['ns'].split('.', 1)[1]}" for e in entries)
    for e in entries:
        kinds[f"ms {e['op']} {e['ns'].split('.', 1)[1]}"] += e.get("millis", 0)
    kinds["commit"] = sum(1 for e in entries if e["command"].get("startTransaction"))
    return dict(kinds)


def report(what: str, entries: list[Document], per: int = 1) -> float:
    ops = total(entries)
    millis = sum(e.get("millis", 0) for e in entries)
    print(f"\n{what}: {ops} ops, {ops / per:.2f} per item, {millis} ms; {breakdown(entries)}")
    return ops / per


async def _created(quiet: Routing, count: int) -> list[str]:
    sent = await asyncio.gather(*(quiet.publish_created("pothole", PHU_HOI) for _ in range(count)))
    return [e.subject for e in sent]


async def test_a_burst_of_reports_costs_a_fraction_of_an_operation_each(quiet: Routing) -> None:
    ops = await Ops(quiet).start()
    await _created(quiet, BURST)
    per_report = report(f"burst of {BURST}", await ops.until_sent(BURST), BURST)
    assert per_report <= 0.5


async def test_a_lone_report_costs_at_most_eight_operations(quiet: Routing) -> None:
    ops = await Ops(quiet).start()
    await _created(quiet, 1)
    assert report("lone report", await ops.until_sent(1)) <= 8


async def test_a_reannounced_report_costs_a_few_operations(quiet: Routing) -> None:
    [report_id] = await _created(quiet, 1)
    await quiet.events.wait(Topic.REPORT_ASSIGNED, report_id)
    await quiet.drained()
    await Ops(quiet).settled()
    ops = await Ops(quiet).start()
    await quiet.publish_created("pothole", PHU_HOI, report_id=report_id, sequence=2)
    assert report("re-announced report", await ops.until_sent(1)) <= 10


async def _assigned(quiet: Routing) -> dict[str, Any]:
    [report_id] = await _created(quiet, 1)
    a = await quiet.assignment(report_id)
    await quiet.drained()
    await Ops(quiet).settled()
    return a


async def _fresh_auth(quiet: Routing) -> dict[str, str]:
    """A staff token, with the token revocations just refreshed: that refresh (one indexed
    query, at most once per TOKEN_REVOCATION_REFRESH_S per replica while tokens are checked)
    is not part of what a command costs."""
    auth = bearer(await quiet.token("transport-dept"))
    assert (await quiet.client.get("/api/v1/assignments", headers=auth)).status_code == 200
    return auth


async def test_a_token_revocation_refresh_is_one_query(quiet: Routing) -> None:
    auth = bearer(await quiet.token("transport-dept"))
    await quiet.client.get("/api/v1/assignments", headers=auth)
    quiet.api.revocations.expire()
    ops = await Ops(quiet).start()
    await quiet.client.get("/api/v1/assignments", headers=auth)
    assert report("queue listing + revocation refresh", await ops.settled()) == 2


async def test_a_staff_command_costs_a_few_operations(quiet: Routing) -> None:
    a = await _assigned(quiet)
    auth = await _fresh_auth(quiet)
    ops = await Ops(quiet).start()
    r = await quiet.client.post(f"/api/v1/assignments/{a['id']}/accept", headers=auth)
    assert r.status_code == 200, r.text
    assert report("accept", await ops.until_sent(1)) <= 7


async def test_a_queue_listing_is_one_query(quiet: Routing) -> None:
    auth = await _fresh_auth(quiet)
    ops = await Ops(quiet).start()
    r = await quiet.client.get("/api/v1/assignments", params={"overdue": "false"}, headers=auth)
    assert r.status_code == 200, r.text
    assert report("queue", await ops.settled()) == 1


async def test_a_safety_net_pass_costs_a_few_operations(quiet: Routing) -> None:
    await _assigned(quiet)
    await quiet.api.deadlines.check()  # a pass that reads every open assignment (the gauge's)
    ops = await Ops(quiet).start()
    await quiet.api.admin.jurisdictions.refresh()
    await quiet.api.deadlines.check()
    # the refresh, and the overdue ones read once per open status (`$in` with a range is a
    # collection scan on the embedded database)
    assert report("jurisdiction refresh + deadline check + gauges", await ops.settled()) <= 4


async def test_nothing_while_idle(quiet: Routing) -> None:
    await quiet.drained()
    await Ops(quiet).settled()
    ops = await Ops(quiet).start()
    await asyncio.sleep(3)  # measuring idleness: a span of time with nothing to do
    assert report("idle 3 s", await ops.entries()) == 0
