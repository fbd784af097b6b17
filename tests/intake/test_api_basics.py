"""Creating and reading reports through the resident API, against the real servers."""

from __future__ import annotations

import json

from aiokafka import AIOKafkaConsumer

from services.intake.settings import IntakeSettings
from shared.crypto import PiiBox
from shared.events import CloudEvent, ReportCreatedV1
from tests.intake.conftest import Running, report_body
from tests.support import eventually, unique


async def test_create_answers_201_with_public_view_and_token(running: Running) -> None:
    async with running.client() as client:
        r = await client.post("/api/v1/reports", json=report_body())
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["status"] == "received"
    assert body["category_name"] == "Ổ gà"
    assert len(body["tracking_token"]) > 20
    assert "possible_duplicates" in body


async def test_get_report_never_contains_contact(running: Running) -> None:
    async with running.client() as client:
        created = (await client.post("/api/v1/reports", json=report_body())).json()
        view = await client.get(f"/api/v1/reports/{created['id']}")
    text = json.dumps(created, ensure_ascii=False) + view.text
    assert view.status_code == 200
    for secret in ("b@example.org", "123 4567", "Trần Thị B"):
        assert secret not in text


async def test_created_event_published_with_contact_sealed(running: Running) -> None:
    async with running.client() as client:
        rid = (await client.post("/api/v1/reports", json=report_body())).json()["id"]
    consumer = AIOKafkaConsumer(
        running.prefix + "report.created",
        bootstrap_servers=running.kafka,
        auto_offset_reset="earliest",
        group_id=unique("reader"),
    )
    await consumer.start()
    try:

        async def mine() -> CloudEvent | None:
            batch = await consumer.getmany(timeout_ms=500)
            for msgs in batch.values():
                for m in msgs:
                    event = CloudEvent.model_validate_json(m.value)
                    if event.subject == rid:
                        return event
            return None

        event = await eventually(mine, what="report.created on Kafka")
    finally:
        await consumer.stop()
    payload = event.payload(ReportCreatedV1)
    assert b"example.org" not in event.model_dump_json().encode()
    assert (
        PiiBox(running.settings.pii_key).open(payload.contact_sealed or "", aad=rid)["email"]
        == "b@example.org"
    )


async def test_categories_in_english_by_accept_language(running: Running) -> None:
    async with running.client() as client:
        r = await client.get("/api/v1/categories", headers={"Accept-Language": "en-US,en;q=0.9"})
    names = {c["code"]: c["name"] for c in r.json()["items"]}
    assert names["pothole"] == "Pothole"


def test_production_refuses_the_dev_open311_key() -> None:
    import pytest
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="OPEN311_API_KEYS"):
        IntakeSettings(
            environment="production",
            pii_key=PROD_KEY,
            jwt_secret=PROD_JWT,
            open311_api_keys="dev-open311-key",
        )
    keys = ("Qm9vbGVhbi1rZXktb25lLWZvci1jbGllbnQ", "VHdvLWtleXMtZm9yLXR3by1jbGllbnRzLW9r")
    assert IntakeSettings(
        environment="production",
        pii_key=PROD_KEY,
        jwt_secret=PROD_JWT,
        open311_api_keys=",".join(keys),
    ).open311_keys == set(keys)


PROD_KEY = "cHJvZC1vbmx5LXBpaS1rZXktMzItYnl0ZXMtbG9uZyE="
PROD_JWT = "Zq3v9Lr0T8xWm2Kc7Hn4Bp6Ys1Dj5Fg0Ua8Ve3Xi9Ow2Rt7"
