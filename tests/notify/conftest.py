"""One notify app for the whole folder (a consumer group join costs seconds), with real SMTP and
HTTP peers, on its own topics and database."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from pymongo import AsyncMongoClient

from shared.catalog import AgencyRefV1
from shared.events import CloudEvent
from shared.kafka import all_topics, ensure_topics
from tests.conftest import Infra
from tests.notify.harness import (
    Publisher,
    catalog,
    notify_settings,
    operator_token,
    running_notify,
)
from tests.notify.peers import HttpReceiver, Mailbox, http_receiver, smtp_server
from tests.support import eventually, unique, wait_ready

SECRET = "test-webhook-secret"
STREAM_CAP = 3  # small, so the stream tests can reach it
SMS_CAP = 240  # below the length of a resident's SMS with its opt-out link
AGENCIES = [
    AgencyRefV1(
        id="roads",
        name={"vi": "Sở Giao thông", "en": "Transport Department"},
        kind="department",
        contacts={"email": "desk@roads.example"},
    ),
    AgencyRefV1(
        id="flaky",
        name={"vi": "Công ty Cấp nước", "en": "Water Company"},
        kind="utility",
        contacts={"webhook_url": "{http}/hook/flaky"},
    ),
    AgencyRefV1(id="ioc", name={"vi": "IOC", "en": "IOC"}, kind="ioc", contacts={}),
]


@dataclass
class Stack:
    client: httpx.AsyncClient
    publish: Publisher
    mailbox: Mailbox
    http: HttpReceiver
    db: Any

    async def apply(self, event: CloudEvent) -> None:
        """Publishes and waits until notify has processed it (its inbox record exists)."""
        await self.publish(event)
        await eventually(
            lambda: self.db.inbox.find_one({"_id": event.id}), what=f"{event.type} processed"
        )

    async def deliveries(self, report_id: str, **filters: str) -> list[dict[str, Any]]:
        r = await self.client.get(
            "/api/v1/notifications", params={"report_id": report_id, **filters}
        )
        assert r.status_code == 200, r.text
        return list(r.json()["items"])


@pytest.fixture(scope="package")
async def stack(infra: Infra) -> AsyncIterator[Stack]:
    prefix = f"t{uuid.uuid4().hex[:10]}."
    await ensure_topics(infra.kafka, all_topics(prefix), partitions=3)
    with smtp_server() as (mailbox, smtp_port), http_receiver() as http:
        http.fail_first["/hook/flaky"] = 2
        db_name = unique("notify")
        settings = notify_settings(
            {
                "environment": "test",
                "kafka_bootstrap_servers": infra.kafka,
                "kafka_topic_prefix": prefix,
                "mongodb_uri": infra.mongodb_uri,
                "mongodb_db": db_name,
                "consumer_retry_backoff_s": "0.05",
            },
            smtp_host="127.0.0.1",
            smtp_port=smtp_port,
            sms_gateway_url=http.url("/sms"),
            sms_gateway_token="gw-token",
            webhook_secret=SECRET,
            delivery_backoff_base_s=0.3,
            delivery_poll_interval_s=0.2,
            sse_poll_interval_s=0.1,
            sse_keepalive_s=1.0,
            sse_max_streams=STREAM_CAP,
            sms_max_chars=SMS_CAP,
        )
        publish = Publisher(infra.kafka, prefix)
        await publish.producer.start()
        mongo: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(infra.mongodb_uri)
        try:
            async with running_notify(settings) as base:
                headers = {"Authorization": f"Bearer {operator_token()}"}
                async with httpx.AsyncClient(base_url=base, headers=headers, timeout=10) as client:
                    await wait_ready(client)
                    agencies = [
                        a.model_copy(
                            update={
                                "contacts": {
                                    k: v.format(http=http.url("")) for k, v in a.contacts.items()
                                }
                            }
                        )
                        for a in AGENCIES
                    ]
                    await publish(catalog(agencies))
                    db = mongo[db_name]
                    await eventually(
                        lambda: db.catalog.find_one({"_id": "catalog"}), what="catalogue stored"
                    )
                    yield Stack(client, publish, mailbox, http, db)
        finally:
            await publish.producer.stop()
            await mongo.close()
