"""Routing over the real broker and database: reports in, assignments and events out."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta
from typing import Any

import pytest

from shared.events import CloudEvent, ReportReopenedV1, Topic, utcnow
from tests.routing.conftest import HANOI, PHU_HOI, Routing
from tests.support import eventually, unique


async def test_ward_rule_sends_report_to_the_ward(routing: Routing) -> None:
    event = await routing.publish_created("sidewalk-encroachment", PHU_HOI)
    a = await routing.assignment(event.subject)
    assert (a["agency_id"], a["rule_id"], a["area_id"]) == (
        "phu-hoi-ward",
        "sidewalk-encroachment@phu-hoi",
        "phu-hoi",
    )


async def test_outside_every_area_goes_to_fallback(routing: Routing) -> None:
    event = await routing.publish_created("sidewalk-encroachment", HANOI)
    a = await routing.assignment(event.subject)
    assert (a["agency_id"], a["reason"]) == ("ioc", "fallback")


async def test_assigned_event_carries_agency_due_time_and_attempt(routing: Routing) -> None:
    event = await routing.publish_created("flooding", PHU_HOI)  # 6 calendar hours
    [assigned] = await routing.events.wait(Topic.REPORT_ASSIGNED, event.subject)
    data = assigned.data
    hours = (
        datetime.fromisoformat(data["due_at"]) - datetime.fromisoformat(data["assigned_at"])
    ).total_seconds() / 3600
    assert (data["agency_id"], data["attempt"], hours) == ("hue-water", 1, 6)


async def test_duplicate_delivery_creates_one_assignment_and_announces_it_once(
    routing: Routing,
) -> None:
    labels = {"topic": Topic.REPORT_CREATED, "outcome": "duplicate"}
    before = routing.metric("events_consumed_total", **labels)
    event = await routing.publish_created("garbage", PHU_HOI)
    await routing.send(event)
    await routing.send(event)

    async def both_copies_absorbed() -> bool:
        return routing.metric("events_consumed_total", **labels) >= before + 2

    await eventually(both_copies_absorbed, what="two duplicates absorbed")
    await routing.drained()
    announced = await routing.outbox(Topic.REPORT_ASSIGNED, event.subject)
    count = await routing.db["assignments"].count_documents({"report_id": event.subject})
    assert (len(announced), count) == (1, 1)
    assert len(await routing.events.wait(Topic.REPORT_ASSIGNED, event.subject)) == 1


async def test_reporter_contact_never_stored(routing: Routing) -> None:
    event = await routing.publish_created("garbage", PHU_HOI)
    await routing.assignment(event.subject)
    doc = await routing.db["assignments"].find_one({"report_id": event.subject})
    assert "sealed-blob-never-stored" not in str(doc)


async def test_reannounced_report_reemits_its_assignment(routing: Routing) -> None:
    first = await routing.publish_created("garbage", PHU_HOI)
    await routing.events.wait(Topic.REPORT_ASSIGNED, first.subject)
    await routing.publish_created("garbage", PHU_HOI, report_id=first.subject, sequence=2)
    events = await routing.events.wait(Topic.REPORT_ASSIGNED, first.subject, count=2)
    assert len({e.data["assignment_id"] for e in events}) == 1


async def test_catalog_published_at_start_with_version_as_sequence(routing: Routing) -> None:
    [catalog, *_] = await routing.events.wait(Topic.JURISDICTION_CATALOG, "catalog")
    assert catalog.sequence == catalog.data["version"] == 1
    assert {"pothole", "flooding"} <= {c["code"] for c in catalog.data["categories"]}


async def test_public_agency_and_category_lists(routing: Routing) -> None:
    agencies = (await routing.client.get("/api/v1/agencies")).json()["items"]
    categories = (await routing.client.get("/api/v1/categories")).json()["items"]
    assert {"id": "ioc", "name": agencies[0]["name"], "kind": "ioc"} == agencies[0]
    assert "pothole" in {c["code"] for c in categories}


async def test_business_metrics_count_assignments_by_value(routing: Routing) -> None:
    fallbacks = routing.metric("routing_assignments_total", reason="fallback")
    event = await routing.publish_created("sidewalk-encroachment", HANOI)
    await routing.assignment(event.subject)
    routing.api.deadlines.open_every = timedelta(0)  # this pass reads every open assignment
    await routing.api.deadlines.check()
    open_ioc = await routing.db["assignments"].count_documents(
        {"agency_id": "ioc", "status": {"$in": ["assigned", "accepted", "in_progress"]}}
    )
    assert routing.metric("routing_open_assignments", agency="ioc") == open_ioc >= 1
    assert routing.metric("routing_assignments_total", reason="fallback") == fallbacks + 1
    text = (await routing.client.get("/metrics")).text
    assert f'routing_open_assignments{{agency="ioc"}} {float(open_ioc)}' in text


async def test_reopened_report_is_routed_again(routing: Routing) -> None:
    event = await routing.publish_created("pothole", PHU_HOI)
    a = await routing.assignment(event.subject)
    auth = {"Authorization": f"Bearer {await routing.token('transport-dept')}"}
    await routing.client.post(
        f"/api/v1/assignments/{a['id']}/resolve", json={"note": "patched"}, headers=auth
    )
    reopened = CloudEvent(
        source="/fieldreports/intake",
        type=Topic.REPORT_REOPENED,
        subject=event.subject,
        sequence=2,
        data=ReportReopenedV1(
            report_id=event.subject, reason="still broken", at=utcnow()
        ).model_dump(mode="json"),
    )
    await routing.send(reopened)
    events = await routing.events.wait(Topic.REPORT_ASSIGNED, event.subject, count=2)
    assert (events[-1].data["attempt"], events[-1].data["agency_id"]) == (2, "transport-dept")


async def test_stale_reopen_is_recorded_but_not_applied(routing: Routing) -> None:
    event = await routing.publish_created("pothole", PHU_HOI, sequence=5)
    a = await routing.assignment(event.subject)
    auth = {"Authorization": f"Bearer {await routing.token('transport-dept')}"}
    await routing.client.post(
        f"/api/v1/assignments/{a['id']}/resolve", json={"note": "patched"}, headers=auth
    )
    stale = CloudEvent(
        source="/fieldreports/intake",
        type=Topic.REPORT_REOPENED,
        subject=event.subject,
        sequence=4,
        data=ReportReopenedV1(report_id=event.subject, reason="old", at=utcnow()).model_dump(
            mode="json"
        ),
    )
    await routing.send(stale)

    async def ignored() -> dict[str, Any] | None:
        r = await routing.client.get(f"/api/v1/assignments/{a['id']}", headers=auth)
        body = r.json()
        return body if "ignored" in str(body["history"][-1].get("note")) else None

    body = await eventually(ignored, what="stale reopen recorded")
    assert (body["status"], body["attempt"]) == ("resolved", 1)


def _reopened(report_id: str, sequence: int = 2) -> CloudEvent:
    return CloudEvent(
        source="/fieldreports/intake",
        type=Topic.REPORT_REOPENED,
        subject=report_id,
        sequence=sequence,
        data=ReportReopenedV1(report_id=report_id, reason="x", at=utcnow()).model_dump(mode="json"),
    )


async def test_reopen_of_unknown_report_is_logged_counted_and_announces_nothing(
    routing: Routing, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="services.routing.usecases.events")
    processed = {"topic": Topic.REPORT_REOPENED, "outcome": "processed"}
    before = routing.metric("routing_unknown_reopen_total")
    committed = routing.metric("events_consumed_total", **processed)
    report_id = unique("never-seen-")
    await routing.send(_reopened(report_id))
    # A later event on the same topic and partition: once it is committed, so is the first.
    await routing.send(_reopened(unique("marker-")), key=report_id)

    async def both_committed() -> bool:
        return routing.metric("events_consumed_total", **processed) >= committed + 2

    await eventually(both_committed, what="reopen and marker committed")
    await routing.drained()
    assert routing.metric("routing_unknown_reopen_total") == before + 2
    assert any(report_id in r.getMessage() for r in caplog.records)
    assert await routing.outbox(Topic.REPORT_ASSIGNED, report_id) == []
    assert routing.events.of(Topic.REPORT_ASSIGNED, report_id) == []
    assert await routing.db["assignments"].count_documents({"report_id": report_id}) == 0


async def test_a_report_created_and_reannounced_at_once_is_assigned_once(
    routing: Routing,
) -> None:
    first = await routing.publish_created("garbage", PHU_HOI, sequence=1, send=False)
    again = await routing.publish_created(
        "garbage", PHU_HOI, report_id=first.subject, sequence=2, send=False
    )
    await asyncio.gather(routing.send(first), routing.send(again))  # most likely one batch
    events = await routing.events.wait(Topic.REPORT_ASSIGNED, first.subject, count=2)
    assert ([e.sequence for e in events], len({e.data["assignment_id"] for e in events})) == (
        [1, 2],
        1,
    )
    doc = await routing.db["assignments"].find_one({"report_id": first.subject})
    assert doc is not None
    assert (doc["intake_seq"], [h["action"] for h in doc["history"]]) == (2, ["route"])


async def test_a_reports_events_are_numbered_by_its_assignment(routing: Routing) -> None:
    event = await routing.publish_created("pothole", PHU_HOI)
    a = await routing.assignment(event.subject)
    auth = {"Authorization": f"Bearer {await routing.token('transport-dept')}"}
    await routing.client.post(f"/api/v1/assignments/{a['id']}/accept", headers=auth)
    [accepted] = await routing.events.wait(Topic.REPORT_ACCEPTED, event.subject)
    assert accepted.sequence == 2
    assert await routing.db["sequences"].count_documents({"_id": event.subject}) == 0


async def test_a_poison_event_is_dead_lettered_alone_and_its_batch_applied(
    routing: Routing,
) -> None:
    before = routing.metric("events_dead_lettered_total", topic=Topic.REPORT_CREATED)
    good = await routing.publish_created("garbage", PHU_HOI, send=False)
    bad = CloudEvent(
        source="/fieldreports/intake",
        type=Topic.REPORT_CREATED,
        subject=unique("poison-"),
        sequence=1,
        data={"report_id": "no location, no category"},
    )
    await asyncio.gather(routing.send(bad, key=good.subject), routing.send(good))
    await routing.assignment(good.subject)

    async def dead_lettered() -> bool:
        return routing.metric("events_dead_lettered_total", topic=Topic.REPORT_CREATED) > before

    await eventually(dead_lettered, what="poison event dead-lettered")
    assert await routing.db["assignments"].count_documents({"report_id": bad.subject}) == 0
