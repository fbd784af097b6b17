"""Event handlers and their use case on the real database, each event in one unit of work
(no broker)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from pymongo import AsyncMongoClient

from services.notify.domain.delivery import UnsubscribeTokens
from services.notify.domain.model import Channel
from services.notify.handlers import EventHandlers
from services.notify.settings import NotifySettings
from services.notify.stores import (
    DELIVERIES,
    INDEXES,
    DeliveryStore,
    PreferenceStore,
    ReportStore,
)
from services.notify.usecases.catalogue import CatalogueCache
from services.notify.usecases.events import NewsConfig, RecordEvents
from shared.catalog import AgencyRefV1
from shared.catalog_copy import CatalogCopy
from shared.crypto import PiiBox
from shared.events import CloudEvent, utcnow
from shared.mongo import ensure_indexes, make_client
from shared.outbox import Outbox
from shared.settings import DEV_PII_KEY
from shared.uow import MongoTransactions, UnitOfWork
from tests.conftest import Infra
from tests.notify.harness import assigned, catalog, created, resolved
from tests.support import polled, unique


class Harness:
    def __init__(self, client: AsyncMongoClient[dict[str, Any]], db_name: str) -> None:
        self.client = client
        self.db = client[db_name]
        self.woken = 0
        self.transactions = MongoTransactions(client, Outbox(self.db, "/fieldreports/notify"))
        disabled = {Channel.EMAIL: "SMTP_HOST is not set"}
        events = RecordEvents(
            ReportStore(self.db),
            DeliveryStore(self.db),
            PreferenceStore(self.db),
            CatalogueCache(CatalogCopy(self.db)),
            PiiBox(DEV_PII_KEY),
            UnsubscribeTokens("u"),
            NewsConfig("ioc", "http://intake/{report_id}", disabled),
            utcnow,
            self.wake,
        )
        self.handlers = EventHandlers(events)

    def wake(self) -> None:
        self.woken += 1

    async def handle(self, *events: CloudEvent) -> None:
        """The events in one unit of work, as the consumer applies a polled batch."""

        async def work(uow: UnitOfWork) -> None:
            await self.handlers.on_batch([polled(e) for e in events], uow)

        await self.transactions.run(work)

    catalog = handle

    async def deliveries(self, **filters: Any) -> list[dict[str, Any]]:
        return [d async for d in self.db[DELIVERIES].find(filters)]


@pytest.fixture
async def harness(infra: Infra) -> AsyncIterator[Harness]:
    client = make_client(NotifySettings(mongodb_uri=infra.mongodb_uri))
    h = Harness(client, unique("notify_handlers_"))
    await ensure_indexes(h.db, INDEXES)
    yield h
    await client.close()


async def test_disabled_email_channel_is_recorded_as_skipped(harness: Harness) -> None:
    report = unique("r-")
    await harness.handle(created(report, {"email": "n@example.org"}))
    [email] = await harness.deliveries(report_id=report, channel="email")
    assert (email["status"], email["last_error"]) == (
        "skipped",
        "channel disabled: SMTP_HOST is not set",
    )


async def test_same_event_handled_twice_records_one_delivery_per_channel(
    harness: Harness,
) -> None:
    report = unique("r-")
    await harness.handle(created(report, {"phone": "+84901112233"}))
    event = assigned(report, "roads")
    await harness.handle(event)
    # The inbox normally stops this; the unique index still holds if it is bypassed.
    await harness.handle(event.model_copy(update={"sequence": 2}))
    entries = await harness.deliveries(report_id=report, event_type="report.assigned")
    assert sorted((d["recipient_kind"], d["channel"]) for d in entries) == [
        ("agency", "log"),
        ("resident", "log"),
        ("resident", "sms"),
    ]


async def test_address_is_sealed_at_rest(harness: Harness) -> None:
    report = unique("r-")
    await harness.handle(created(report, {"phone": "+84901112233"}))
    [sms] = await harness.deliveries(report_id=report, channel="sms")
    stored = str(sms) + str(await harness.db.reports.find_one({"_id": report}))
    assert "+84901112233" not in stored
    assert PiiBox(DEV_PII_KEY).open(sms["address_sealed"], aad=sms["_id"]) == "+84901112233"


async def test_pending_delivery_wakes_the_worker(harness: Harness) -> None:
    await harness.handle(created(unique("r-"), {"phone": "+84901112233"}))
    assert harness.woken == 1


PARKS = AgencyRefV1(
    id="parks",
    name={"vi": "Công viên cây xanh", "en": "Parks"},
    kind="department",
    contacts={"webhook_url": "http://hooks.example/parks", "email": "desk@parks.example"},
)


async def test_catalogue_arriving_late_tells_the_agency_of_its_assignment_once(
    harness: Harness,
) -> None:
    report = unique("r-")
    await harness.handle(assigned(report, "parks"))  # no catalogue stored yet
    [log_entry] = await harness.deliveries(report_id=report, recipient_kind="agency")
    await harness.catalog(catalog([PARKS], version=1))
    await harness.catalog(catalog([PARKS], version=2))  # republished: nothing more
    entries = await harness.deliveries(report_id=report, recipient_kind="agency")
    by_channel = {d["channel"]: d for d in entries}
    assert sorted(d["channel"] for d in entries) == ["email", "log", "webhook"]
    webhook = by_channel["webhook"]
    assert (webhook["status"], webhook["dedupe_key"]) == ("pending", log_entry["dedupe_key"])
    assert webhook["context"]["agency_name"] == "Công viên cây xanh"
    assert by_channel["email"]["status"] == "skipped"  # email is off in this harness
    assert harness.woken == 1


async def test_catalogue_does_not_tell_an_agency_of_a_report_that_moved_on(
    harness: Harness,
) -> None:
    report = unique("r-")
    await harness.handle(assigned(report, "parks"))
    await harness.handle(resolved(report, "parks"))
    await harness.catalog(catalog([PARKS], version=1))
    entries = await harness.deliveries(report_id=report, recipient_kind="agency")
    assert [d["channel"] for d in entries] == ["log"]


async def test_catalogue_does_not_reach_back_beyond_the_backfill_window(
    harness: Harness,
) -> None:
    report = unique("r-")
    await harness.handle(assigned(report, "parks"))
    await harness.db[DELIVERIES].update_many(
        {"report_id": report}, {"$set": {"created_at": utcnow() - timedelta(hours=25)}}
    )
    await harness.catalog(catalog([PARKS], version=1))
    entries = await harness.deliveries(report_id=report, recipient_kind="agency")
    assert [d["channel"] for d in entries] == ["log"]


async def test_a_batch_of_one_reports_events_in_one_transaction(harness: Harness) -> None:
    report = unique("r-")
    first = created(report, {"phone": "+84901112233"})
    await harness.handle(first, assigned(report, "roads"), first.model_copy(update={"sequence": 2}))
    entries = await harness.deliveries(report_id=report)
    assert sorted((d["event_type"], d["recipient_kind"], d["channel"]) for d in entries) == [
        ("report.assigned", "agency", "log"),
        ("report.assigned", "resident", "log"),
        ("report.assigned", "resident", "sms"),
        ("report.created", "resident", "log"),
        ("report.created", "resident", "sms"),
    ]
    view = await harness.db.reports.find_one({"_id": report})
    assert view is not None
    assert (view["status"], view["stream_n"]) == ("assigned", 2)
    changes = harness.db.status_changes.find({"report_id": report}).sort("n")
    assert [c["status"] async for c in changes] == ["received", "assigned"]


async def test_a_batch_meeting_deliveries_already_stored_records_only_the_new_ones(
    harness: Harness,
) -> None:
    report = unique("r-")
    await harness.handle(created(report, {"phone": "+84901112233"}))
    # A redelivery that bypassed the inbox, with news of its own after it: no duplicate key.
    again = created(report, {"phone": "+84901112233"}, seq=2)
    await harness.handle(again, resolved(report, "roads", seq=2))
    entries = await harness.deliveries(report_id=report, channel="sms")
    assert sorted(d["event_type"] for d in entries) == ["report.created", "report.resolved"]
