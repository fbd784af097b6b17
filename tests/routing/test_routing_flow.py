"""Routing over the real broker and database: reports in, assignments and events out."""

from __future__ import annotations

from datetime import datetime

from shared.events import Topic
from tests.routing.conftest import HANOI, PHU_HOI, Routing


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
    event = await routing.publish_created("pothole", PHU_HOI)
    [assigned] = await routing.events.wait(Topic.REPORT_ASSIGNED, event.subject)
    data = assigned.data
    hours = (
        datetime.fromisoformat(data["due_at"]) - datetime.fromisoformat(data["assigned_at"])
    ).total_seconds() / 3600
    assert (data["agency_id"], data["attempt"], hours) == ("transport-dept", 1, 72)


async def test_duplicate_delivery_creates_one_assignment(routing: Routing) -> None:
    event = await routing.publish_created("garbage", PHU_HOI)
    await routing.send(event)
    await routing.send(event)
    await routing.events.wait(Topic.REPORT_ASSIGNED, event.subject)
    count = await routing.service.store.assignments.count_documents({"report_id": event.subject})
    assert count == 1


async def test_reporter_contact_never_stored(routing: Routing) -> None:
    event = await routing.publish_created("garbage", PHU_HOI)
    await routing.assignment(event.subject)
    doc = await routing.service.store.assignments.find_one({"report_id": event.subject})
    assert "sealed-blob-never-stored" not in str(doc)
