"""The delivery worker against the real database: leases, replicas, the stored retry schedule."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from typing import Any

import pytest
from prometheus_client import CollectorRegistry
from pymongo.asynchronous.database import AsyncDatabase

from services.notify.channels import WebhookSender
from services.notify.domain.delivery import RetryPolicy, UnsubscribeTokens, sent
from services.notify.domain.destinations import DestinationPolicy
from services.notify.domain.model import Channel
from services.notify.metrics import NotifyMetrics
from services.notify.rendering import Renderer
from services.notify.settings import NotifySettings
from services.notify.stores import DELIVERIES, INDEXES, DeliveryQueue, PreferenceStore
from services.notify.stores.deliveries import FINAL
from services.notify.usecases.delivery import DeliveryWorker, WorkerConfig
from shared.crypto import PiiBox
from shared.events import utcnow
from shared.mongo import ensure_indexes, make_client
from shared.settings import DEV_PII_KEY
from tests.conftest import Infra
from tests.notify.peers import HttpReceiver, http_receiver
from tests.support import eventually, unique

BOX = PiiBox(DEV_PII_KEY)
POLICY = RetryPolicy(max_attempts=3, base_s=60)
LOCAL = DestinationPolicy.of(production=False, allow_list=None)  # loopback receivers


@pytest.fixture
async def db(infra: Infra) -> AsyncIterator[AsyncDatabase[Any]]:
    client = make_client(NotifySettings(mongodb_uri=infra.mongodb_uri))
    database = client[unique("notify_worker_")]
    await ensure_indexes(database, INDEXES)
    yield database
    await client.close()


@pytest.fixture(scope="module")
def http() -> Iterator[HttpReceiver]:
    with http_receiver() as receiver:
        yield receiver


def worker(db: AsyncDatabase[Any], registry: CollectorRegistry | None = None) -> DeliveryWorker:
    return DeliveryWorker(
        DeliveryQueue(db),
        PreferenceStore(db),
        {Channel.WEBHOOK: WebhookSender("secret", LOCAL, timeout_s=5)},
        Renderer(),
        BOX,
        UnsubscribeTokens("u"),
        POLICY,
        NotifyMetrics(registry or CollectorRegistry()),
        WorkerConfig(public_base_url="http://notify", poll_interval_s=0.1),
        utcnow,
    )


def delivery(url: str, **fields: Any) -> dict[str, Any]:
    did = unique("d")
    now = utcnow()
    doc = {
        "_id": did,
        "event_id": unique("e"),
        "event_type": "report.assigned",
        "dedupe_key": did,
        "report_id": "r1",
        "recipient_kind": "agency",
        "recipient_id": "roads",
        "recipient": "http://127.0.0.1/***",
        "channel": "webhook",
        "address_sealed": BOX.seal(url, aad=did),
        "address_key": None,
        "language": "vi",
        "template": "agency/assigned",
        "context": {"report_id": "r1", "category_name": "Ổ gà", "agency_name": "Sở GT"},
        "status": "pending",
        "last_error": None,
        "attempts": 0,
        "next_attempt_at": now - timedelta(seconds=1),
        "lease_until": None,
        "owner": None,
        "created_at": now,
        "sent_at": None,
        **fields,
    }
    if "claimable_at" not in fields:  # as the store writes it: when it may be taken next
        due = [doc["next_attempt_at"], doc["lease_until"] or doc["next_attempt_at"]]
        queued = doc["status"] in ("pending", "failed")
        doc["claimable_at"] = max(due) if queued else FINAL
    return doc


async def stored(db: AsyncDatabase[dict[str, Any]], did: str) -> dict[str, Any]:
    doc = await db[DELIVERIES].find_one({"_id": did})
    assert doc is not None
    return doc


async def test_delivery_leased_by_a_crashed_replica_is_sent_by_another(
    db: AsyncDatabase[Any], http: HttpReceiver
) -> None:
    path = f"/{unique()}"
    doc = delivery(
        http.url(path),
        status="failed",
        attempts=1,
        owner="crashed-replica",
        lease_until=utcnow() - timedelta(seconds=1),
    )
    await db[DELIVERIES].insert_one(doc)
    assert await worker(db).work_once() == 1
    assert len(http.at(path)) == 1
    after = await stored(db, doc["_id"])
    assert (after["status"], after["attempts"]) == ("sent", 2)


async def test_two_replicas_send_each_delivery_once(
    db: AsyncDatabase[Any], http: HttpReceiver
) -> None:
    path = f"/{unique()}"
    await db[DELIVERIES].insert_many([delivery(http.url(path)) for _ in range(8)])
    await asyncio.gather(worker(db).work_once(), worker(db).work_once())
    ids = [r.json()["id"] for r in http.at(path)]
    assert len(ids) == len(set(ids)) == 8


async def test_failed_attempt_stores_its_next_attempt_time(
    db: AsyncDatabase[Any], http: HttpReceiver
) -> None:
    path = f"/{unique()}"
    http.fail_first[path] = 99
    doc = delivery(http.url(path))
    await db[DELIVERIES].insert_one(doc)
    before = utcnow()
    await worker(db).work_once()
    after = await stored(db, doc["_id"])
    assert (after["status"], after["attempts"]) == ("failed", 1)
    assert after["next_attempt_at"] >= before + timedelta(seconds=60)
    assert after["last_error"] == "http_5xx"


async def test_webhook_to_a_metadata_address_is_dead_at_once(db: AsyncDatabase[Any]) -> None:
    doc = delivery("http://169.254.169.254/latest/meta-data/")
    await db[DELIVERIES].insert_one(doc)
    await worker(db).work_once()
    after = await stored(db, doc["_id"])
    assert (after["status"], after["last_error"]) == ("dead", "refused_destination")


async def test_last_failed_attempt_is_dead(db: AsyncDatabase[Any], http: HttpReceiver) -> None:
    path = f"/{unique()}"
    http.fail_first[path] = 99
    doc = delivery(http.url(path), status="failed", attempts=POLICY.max_attempts - 1)
    await db[DELIVERIES].insert_one(doc)
    await worker(db).work_once()
    assert (await stored(db, doc["_id"]))["status"] == "dead"


async def test_delivery_not_yet_due_waits(db: AsyncDatabase[Any], http: HttpReceiver) -> None:
    later = utcnow() + timedelta(minutes=5)
    await db[DELIVERIES].insert_one(
        delivery(http.url("/x"), status="failed", next_attempt_at=later)
    )
    assert await worker(db).work_once() == 0


async def test_unsubscribed_address_is_skipped_at_send_time(
    db: AsyncDatabase[Any], http: HttpReceiver
) -> None:
    path = f"/{unique()}"
    doc = delivery(http.url(path), address_key="k1")
    await db[DELIVERIES].insert_one(doc)
    await PreferenceStore(db).unsubscribe("k1", Channel.EMAIL, utcnow())
    await worker(db).work_once()
    assert (await stored(db, doc["_id"]))["status"] == "skipped"
    assert http.at(path) == []


async def test_queue_depth_gauge_counts_pending_and_failed_deliveries(
    db: AsyncDatabase[Any], http: HttpReceiver
) -> None:
    later = utcnow() + timedelta(minutes=5)  # not due: the worker leaves them queued
    await db[DELIVERIES].insert_many(
        [
            delivery(http.url("/x"), next_attempt_at=later),
            delivery(http.url("/x"), next_attempt_at=later),
            delivery(http.url("/x"), status="failed", attempts=1, next_attempt_at=later),
            delivery(http.url("/x"), status="dead", attempts=3),
        ]
    )
    registry = CollectorRegistry()
    stop = asyncio.Event()
    task = asyncio.create_task(worker(db, registry).run(stop))

    async def depths() -> dict[str, float | None]:
        got = {
            state: registry.get_sample_value("notifications_queue_depth", {"state": state})
            for state in ("pending", "failed")
        }
        return got if got == {"pending": 2, "failed": 1} else {}

    try:
        await eventually(depths, what="queue depths")
    finally:
        stop.set()
        await task
    assert registry.get_sample_value("notifications_retry_queue_depth") == 1


LEASE, AHEAD = timedelta(seconds=60), timedelta(seconds=30)


async def test_claim_says_when_the_next_delivery_within_the_look_ahead_falls_due(
    db: AsyncDatabase[Any], http: HttpReceiver
) -> None:
    now = utcnow()
    soon, much_later = now + timedelta(seconds=10), now + timedelta(minutes=5)
    await db[DELIVERIES].insert_many(
        [
            delivery(http.url("/x")),
            delivery(http.url("/x"), status="failed", attempts=1, next_attempt_at=soon),
            delivery(http.url("/x"), status="failed", attempts=1, next_attempt_at=much_later),
            delivery(http.url("/x"), status="sent", attempts=1),
        ]
    )
    claimed = await DeliveryQueue(db).claim(now, LEASE, 10, AHEAD)
    assert len(claimed.deliveries) == 1
    assert claimed.next_due is not None
    assert abs((claimed.next_due - soon).total_seconds()) < 0.01
    again = await DeliveryQueue(db).claim(now, LEASE, 10, AHEAD)  # the first one is leased now
    assert again.deliveries == []


async def test_a_claim_full_of_due_deliveries_says_look_again_at_once(
    db: AsyncDatabase[Any], http: HttpReceiver
) -> None:
    await db[DELIVERIES].insert_many([delivery(http.url("/x")) for _ in range(3)])
    now = utcnow()
    claimed = await DeliveryQueue(db).claim(now, LEASE, 2, AHEAD)
    assert (len(claimed.deliveries), claimed.next_due) == (2, now)


async def test_outcomes_are_recorded_only_under_the_lease_that_is_still_held(
    db: AsyncDatabase[Any], http: HttpReceiver
) -> None:
    await db[DELIVERIES].insert_many([delivery(http.url("/x")) for _ in range(3)])
    queue, now = DeliveryQueue(db), utcnow()
    claimed = await queue.claim(now, LEASE, 10, AHEAD)
    first, second, third = claimed.deliveries
    await db[DELIVERIES].update_one({"_id": third.id}, {"$set": {"owner": "someone-else"}})
    await queue.finish(
        claimed.token,
        [
            (first, sent(1, now)),
            (second, POLICY.failed(1, "webhook answered HTTP 500", now)),
            (third, sent(1, now)),
        ],
    )
    a, b, c = [await stored(db, d.id) for d in (first, second, third)]
    assert (a["status"], a["claimable_at"]) == ("sent", FINAL)
    assert (b["status"], b["attempts"]) == ("failed", 1)
    assert b["claimable_at"] == b["next_attempt_at"] > now
    assert c["status"] == "pending"  # leased by another round since: not ours to record


async def test_deliveries_stored_before_claimable_times_are_adopted_and_sent(
    db: AsyncDatabase[Any], http: HttpReceiver
) -> None:
    path = f"/{unique()}"
    legacy = [
        delivery(http.url(path)),
        delivery(http.url(path), status="failed", next_attempt_at=utcnow() + timedelta(hours=1)),
        delivery(http.url(path), status="sent", attempts=1),
    ]
    for doc in legacy:
        del doc["claimable_at"]
    await db[DELIVERIES].insert_many(legacy)
    assert await DeliveryQueue(db).adopt_legacy() == 3
    due, later, done = [await stored(db, d["_id"]) for d in legacy]
    assert due["claimable_at"] <= utcnow() < later["claimable_at"]
    assert done["claimable_at"] == FINAL
    assert await worker(db).work_once() == 1
    assert len(http.at(path)) == 1
    assert await DeliveryQueue(db).adopt_legacy() == 0
