"""The same `report.created` CloudEvent delivered several times (straight to Kafka): routing makes
one assignment, intake, notify and analytics each count the report once."""

from __future__ import annotations

import json

import httpx
from aiokafka import AIOKafkaProducer
from pymongo import AsyncMongoClient

from tests.conftest import Infra
from tests.faults.harness import (
    Document,
    Launcher,
    assigned_entries,
    assignments_per_report,
    catalogue_reached,
    metric,
    post_report,
    statuses,
    token,
)
from tests.support import eventually

COPIES = 3
CONSUMERS_OF_CREATED = ("routing", "notify", "analytics")


async def test_a_report_created_event_delivered_again_is_counted_once_everywhere(
    infra: Infra,
    launcher: Launcher,
    http: httpx.AsyncClient,
    mongo: AsyncMongoClient[Document],
) -> None:
    svc = {name: launcher.service(name) for name in ("routing", "intake", "notify", "analytics")}
    await launcher.start(http, *svc.values())
    intake, routing = svc["intake"], svc["routing"]
    await catalogue_reached(http, intake)
    report = await post_report(http, intake, 0, contact={"email": "resident@example.org"})

    async def assigned() -> bool:
        return (await statuses(http, intake, [report]))[report.id] == "assigned"

    await eventually(assigned, timeout=60, what="report assigned")
    original = await mongo[intake.db]["outbox"].find_one(
        {"subject": report.id, "type": "report.created"}
    )
    assert original is not None
    producer = AIOKafkaProducer(bootstrap_servers=infra.kafka)
    await producer.start()
    try:
        for _ in range(COPIES):
            await producer.send_and_wait(
                original["topic"],
                json.dumps(original["event"]).encode(),
                key=report.id.encode(),
                headers=[("content-type", b"application/cloudevents+json")],
            )
    finally:
        await producer.stop()

    async def all_seen_as_duplicates() -> bool:
        for name in CONSUMERS_OF_CREATED:
            text = (await http.get(svc[name].url + "/metrics")).text
            seen = metric(
                text, "events_consumed_total", topic="report.created", outcome="duplicate"
            )
            if seen < COPIES:
                return False
        return True

    await eventually(all_seen_as_duplicates, timeout=60, what="copies consumed as duplicates")
    assert await assignments_per_report(mongo, routing.db) == {report.id: 1}
    assert await assigned_entries(http, intake, report) == 1
    summary = (await http.get(svc["analytics"].url + "/api/v1/stats/summary")).json()
    assert summary["total"] == 1
    auth = {"Authorization": f"Bearer {await token(http, routing, 'operator')}"}
    log = await http.get(
        svc["notify"].url + "/api/v1/notifications", params={"report_id": report.id}, headers=auth
    )
    sent = [(n["event_type"], n["recipient_kind"], n["channel"]) for n in log.json()["items"]]
    assert ("report.created", "resident", "log") in sent
    assert len(sent) == len(set(sent)), f"a notification recorded twice: {sent}"
