"""What notify costs the database, and how its queries are served.

Notify runs against the embedded broker and database with the profiler on in its own database
(level 2 records every operation; a transaction's commit is not recorded, so one is added per
transaction: the profiler marks each transaction's first operation with `startTransaction`).

1. Cost: N reports each bring `report.created` (the resident has an email address) and
   `report.assigned` (to an agency reached by webhook): 6 deliveries per report, 3 of them
   sent. Operations per event (sending and recording included) and when idle, printed with
   `pytest -s`; `NOTIFY_COST_N` sets N (default 100), `NOTIFY_COST_IDLE_S` the idle window.
2. Plans: then the paths the burst does not take (a catalogue that reaches an agency late, a
   failing webhook retried, the delivery log, a status stream), and every query shape notify
   sent is explained: no `$or`, and an index scan unless it is a primary-key lookup.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from shared.catalog import AgencyRefV1
from shared.kafka import all_topics, ensure_topics
from tests.conftest import Infra
from tests.notify.harness import (
    Publisher,
    assigned,
    catalog,
    created,
    notify_settings,
    operator_token,
    resolved,
    running_notify,
)
from tests.notify.peers import HttpReceiver, Mailbox, http_receiver, smtp_server
from tests.perf.plans import bounded_without_index, has_or, plan_stages, queries_of
from tests.support import eventually, unique

N = int(os.environ.get("NOTIFY_COST_N", "100"))
IDLE_S = float(os.environ.get("NOTIFY_COST_IDLE_S", "6"))
DELIVERIES_PER_REPORT = 6  # resident: 2 log + 2 email; agency: log + webhook
SENT_PER_REPORT = 3
# Budgets (measured: about 0.2 per event, 0 idle; before batching: 15.6 per event, 1.5/s idle).
MAX_OPS_PER_EVENT = 1.0
MAX_IDLE_OPS_PER_S = 0.5


def agency(agency_id: str, **contacts: str) -> AgencyRefV1:
    return AgencyRefV1(id=agency_id, name={"vi": agency_id}, kind="department", contacts=contacts)


@dataclass
class Rig:
    db: AsyncDatabase[dict[str, Any]]
    publish: Publisher
    mailbox: Mailbox
    http: HttpReceiver
    base: str


@pytest.fixture(scope="module")
async def rig(infra: Infra) -> AsyncIterator[Rig]:
    prefix = f"t{uuid.uuid4().hex[:10]}."
    await ensure_topics(infra.kafka, all_topics(prefix), partitions=3)
    mongo: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(infra.mongodb_uri, tz_aware=True)
    db_name = unique("notify_cost_")
    db = mongo[db_name]
    await db.command("profile", 2)
    with smtp_server() as (mailbox, smtp_port), http_receiver() as http:
        env = {
            "environment": "test",
            "kafka_bootstrap_servers": infra.kafka,
            "kafka_topic_prefix": prefix,
            "mongodb_uri": infra.mongodb_uri,
            "mongodb_db": db_name,
        }
        settings = notify_settings(
            env, smtp_host="127.0.0.1", smtp_port=smtp_port, delivery_backoff_base_s=0.3
        )
        publish = Publisher(infra.kafka, prefix)
        await publish.producer.start()
        try:
            async with running_notify(settings) as base:
                await publish(catalog([agency("roads", webhook_url=http.url("/hook/roads"))]))
                await eventually(
                    lambda: db.catalog.find_one({"_id": "catalog"}), what="catalogue", timeout=60
                )
                yield Rig(db, publish, mailbox, http, base)
        finally:
            await publish.producer.stop()
            await db.command("profile", 0)
            await mongo.close()


async def profiled(db: AsyncDatabase[dict[str, Any]]) -> list[dict[str, Any]]:
    fields = {"command": 1, "ns": 1, "op": 1, "ts": 1, "millis": 1}
    return [e async for e in db["system.profile"].find({}, fields)]


def ops(entries: list[dict[str, Any]]) -> int:
    """Operations, counting one commit per transaction."""
    commits = sum(bool((e.get("command") or {}).get("startTransaction")) for e in entries)
    return len(entries) + commits


def _own(entry: dict[str, Any]) -> bool:
    """The test's own `count_documents` (notify never counts with this filter)."""
    cmd = entry.get("command") or {}
    first = (cmd.get("pipeline") or [{}])[0] if "aggregate" in cmd else {}
    return bool(first.get("$match") == {"status": "sent"})


def by_kind(entries: list[dict[str, Any]]) -> Counter[str]:
    return Counter(f"{e['op']} {e['ns'].split('.', 1)[1]}" for e in entries)


async def test_cost_per_event_and_when_idle(rig: Rig) -> None:
    before = len(await profiled(rig.db))
    start = time.monotonic()
    reports = [unique("r-") for _ in range(N)]
    for r in reports:
        await rig.publish(created(r, {"email": f"{r}@example.org"}, language="en"))
    for r in reports:
        await rig.publish(assigned(r, "roads"))
    published = time.monotonic() - start
    sends = SENT_PER_REPORT * N

    async def all_arrived() -> bool:  # watched on the peers: the test's own reads not counted
        return len(rig.mailbox.messages) + len(rig.http.at("/hook/roads")) >= sends

    await eventually(all_arrived, timeout=600, interval=0.2, what="every message arrived")
    done = time.monotonic() - start

    async def all_recorded() -> bool:
        recorded = await rig.db.deliveries.count_documents({"status": "sent"})
        return recorded >= N * DELIVERIES_PER_REPORT

    await eventually(all_recorded, timeout=60, what="every delivery recorded as sent")
    entries = [e for e in (await profiled(rig.db))[before:] if not _own(e)]
    total = ops(entries)
    await asyncio.sleep(1.0)  # let the worker notice it has nothing left
    idle_from = len(await profiled(rig.db))
    await asyncio.sleep(IDLE_S)
    idle = ops((await profiled(rig.db))[idle_from:]) / IDLE_S
    events = 2 * N
    print(
        f"\nnotify cost: N={N} reports, {events} events, {sends} messages sent; "
        f"published in {published:.1f}s, all sent after {done:.1f}s\n"
        f"  {total} ops = {total / events:.2f} per event = {total / N:.2f} per report\n"
        f"  idle: {idle:.2f} ops/s over {IDLE_S:.0f}s\n"
        f"  by kind: {dict(by_kind(entries).most_common())}"
    )
    if os.environ.get("NOTIFY_COST_TIMELINE"):
        for e in entries:
            cmd = e.get("command") or {}
            print(e["ts"].time(), e["millis"], e["op"], e["ns"].split(".", 1)[1], next(iter(cmd)))
    assert len(rig.mailbox.messages) == 2 * N
    assert len(rig.http.at("/hook/roads")) == N
    assert total <= MAX_OPS_PER_EVENT * events
    assert idle <= MAX_IDLE_OPS_PER_S


async def test_every_query_notify_sends_is_served_by_an_index(rig: Rig) -> None:
    await _take_the_other_paths(rig)
    shapes: dict[str, Any] = {}
    for entry in await profiled(rig.db):
        if _own(entry):
            continue
        for query in queries_of(entry):
            if not query.collection.startswith("system."):
                shapes.setdefault(query.shape, query)
    with_or = [shape for shape, q in shapes.items() if has_or(q.filter)]
    scans = [
        f"{shape} -> {stages}"
        for shape, q in sorted(shapes.items())
        if not bounded_without_index(q) and "IXSCAN" not in (stages := await plan_stages(rig.db, q))
    ]
    assert (with_or, scans) == ([], [])
    assert len(shapes) >= 15, sorted(shapes)  # the paths were taken


async def _take_the_other_paths(rig: Rig) -> None:
    late, flaky, streamed = unique("r-"), unique("r-"), unique("r-")
    rig.http.fail_first["/hook/flaky"] = 1
    await rig.publish(assigned(late, "parks"))  # not in the catalogue yet: nobody to reach
    await rig.publish(created(streamed, None))
    await eventually(lambda: rig.db.reports.find_one({"_id": late}), what="late assignment")
    hooks = {"parks": "/hook/parks", "flaky": "/hook/flaky", "roads": "/hook/roads"}
    await rig.publish(
        catalog([agency(a, webhook_url=rig.http.url(p)) for a, p in hooks.items()], version=2)
    )
    await eventually(lambda: _accepted(rig.http, "/hook/parks"), what="late agency told")
    await rig.publish(assigned(flaky, "flaky"))
    await eventually(lambda: _accepted(rig.http, "/hook/flaky"), what="flaky hook retried")
    headers = {"Authorization": f"Bearer {operator_token()}"}
    async with httpx.AsyncClient(base_url=rig.base, headers=headers, timeout=10) as client:
        for params in (
            {"report_id": late},
            {"report_id": late, "channel": "log"},
            {"status": "dead"},
        ):
            answer = await client.get("/api/v1/notifications", params=params)
            assert answer.status_code == 200, answer.text
        await _stream_two_changes(client, streamed, rig)


async def _accepted(http: HttpReceiver, path: str) -> bool:
    return any(r.status == 200 for r in http.at(path))


async def _stream_two_changes(client: httpx.AsyncClient, report: str, rig: Rig) -> None:
    async with client.stream("GET", f"/api/v1/reports/{report}/stream") as response:
        lines = response.aiter_lines()
        statuses = [await _next_status(lines)]
        await rig.publish(resolved(report, "roads"))
        statuses.append(await _next_status(lines))
    assert statuses == ["received", "resolved"]


async def _next_status(lines: AsyncIterator[str]) -> str:
    async def read() -> str:
        async for line in lines:
            if line.startswith("data:"):
                return str(json.loads(line.removeprefix("data:"))["status"])
        raise AssertionError("stream ended")

    return await asyncio.wait_for(read(), timeout=30)
