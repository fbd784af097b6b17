"""The AsyncAPI document types every consumed and produced topic by its payload model (no I/O)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from shared.events import CloudEvent, Topic
from shared.http import create_app
from shared.runtime import Runtime
from shared.settings import ServiceSettings
from shared.uow import UnitOfWork


async def _handle(event: CloudEvent, uow: UnitOfWork) -> None:
    """Applies the event."""


@pytest.fixture
async def runtime() -> AsyncIterator[Runtime]:
    rt = Runtime(ServiceSettings(service_name="svc", kafka_topic_prefix="p."), {})
    rt.consumer.subscribe_many(
        {Topic.REPORT_CREATED: _handle, Topic.JURISDICTION_CATALOG: _handle}, title="svc:events"
    )
    rt.documents_publishing(Topic.REPORT_ASSIGNED, Topic.JURISDICTION_CATALOG)
    yield rt
    await rt.client.close()


async def _document(rt: Runtime) -> dict[str, Any]:
    """`/asyncapi.json` as served (the lifespan does not run: nothing connects)."""
    app = create_app(rt, title="Svc", description="test")
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        response = await client.get("/asyncapi.json")
    assert response.status_code == 200
    doc: dict[str, Any] = response.json()
    return doc


def _resolve(doc: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    """Follows `$ref`s (always from the document root) to the node they name."""
    while "$ref" in node:
        target = doc
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node


def data_fields(doc: dict[str, Any], channel: str) -> set[str]:
    """The field names of `data` in the one message of `channel`."""
    [message] = doc["channels"][channel]["messages"].values()
    envelope = _resolve(doc, _resolve(doc, message)["payload"])
    assert {"id", "source", "subject", "sequence"} <= set(envelope["properties"])
    return set(_resolve(doc, envelope["properties"]["data"])["properties"])


async def test_consumed_topic_shows_the_payload_fields_under_data(runtime: Runtime) -> None:
    doc = await _document(runtime)
    fields = data_fields(doc, "p.svc:report.created:receive")
    assert {"report_id", "category", "location", "created_at"} <= fields
    assert doc["channels"]["p.svc:report.created:receive"]["address"] == "p.report.created"


async def test_produced_topic_shows_the_payload_fields_under_data(runtime: Runtime) -> None:
    doc = await _document(runtime)
    fields = data_fields(doc, "svc:report.assigned")
    assert {"report_id", "agency_id", "due_at", "attempt"} <= fields
    assert doc["operations"]["svc:report.assigned"]["action"] == "send"


async def test_catalogue_topic_is_typed_by_the_catalogue_model(runtime: Runtime) -> None:
    doc = await _document(runtime)
    assert {"version", "categories"} <= data_fields(doc, "p.svc:jurisdiction.catalog:receive")
    assert {"version", "categories"} <= data_fields(doc, "svc:jurisdiction.catalog")


async def test_a_topic_both_consumed_and_produced_is_listed_twice() -> None:
    rt = Runtime(ServiceSettings(service_name="svc"), {})  # no prefix: group id == service name
    rt.consumer.subscribe(Topic.REPORT_CLOSED, _handle)
    rt.documents_publishing(Topic.REPORT_CLOSED)
    doc = await _document(rt)
    await rt.client.close()
    actions = {op["action"] for op in doc["operations"].values()}
    assert actions == {"receive", "send"}


async def test_envelope_type_is_fixed_to_the_topic(runtime: Runtime) -> None:
    doc = await _document(runtime)
    schema = doc["components"]["schemas"]["ReportCreatedEvent"]
    assert schema["properties"]["type"]["const"] == "report.created"


async def test_many_topics_still_share_one_working_consumer(runtime: Runtime) -> None:
    [working] = runtime.broker.subscribers
    documented = runtime.contract.subscribers
    assert working.specification.channel_labels == ["p.report.created", "p.jurisdiction.catalog"]
    assert sorted(s.specification.channel_labels for s in documented) == [
        ["p.jurisdiction.catalog"],
        ["p.report.created"],
    ]
    assert not working.specification.include_in_schema
