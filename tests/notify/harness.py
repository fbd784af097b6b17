"""Runs notify in-process behind a real uvicorn socket (SSE needs real streaming), and builds
and publishes events the way the other services do."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

import uvicorn
from aiokafka import AIOKafkaProducer
from pydantic import BaseModel

from devstack.servers import free_port
from services.notify.app import build_app
from services.notify.settings import NotifySettings
from shared.auth import AuthConfig, Principal, TokenCodec
from shared.catalog import AgencyRefV1, CatalogV1, CategoryV1
from shared.crypto import PiiBox
from shared.events import (
    CloudEvent,
    GeoPoint,
    ReportAssignedV1,
    ReportCreatedV1,
    ReportEscalatedV1,
    ReportRecategorizedV1,
    ReportResolvedV1,
    Topic,
    utcnow,
)
from shared.outbox import encode
from shared.settings import DEV_PII_KEY

INTAKE = "/fieldreports/intake"
ROUTING = "/fieldreports/routing"


def operator_token() -> str:
    return TokenCodec(AuthConfig()).issue(Principal(sub="operator", scopes=["operator"]))


def staff_token(agency: str) -> str:
    return TokenCodec(AuthConfig()).issue(Principal(sub=agency, scopes=["staff"], agency_id=agency))


def event(topic: str, report_id: str, data: BaseModel, seq: int, source: str) -> CloudEvent:
    return CloudEvent(
        source=source,
        type=topic,
        subject=report_id,
        sequence=seq,
        data=data.model_dump(mode="json"),
    )


def created(
    report_id: str, contact: dict[str, str] | None, language: str = "vi", seq: int = 1
) -> CloudEvent:
    sealed = PiiBox(DEV_PII_KEY).seal(contact, aad=report_id) if contact else None
    data = ReportCreatedV1(
        report_id=report_id,
        category="pothole",
        location=GeoPoint(lat=16.46, lon=107.59),
        description="Ổ gà lớn trước số 12",
        language=language,
        created_at=utcnow(),
        contact_sealed=sealed,
    )
    return event(Topic.REPORT_CREATED, report_id, data, seq, INTAKE)


def assigned(report_id: str, agency: str, seq: int = 1, attempt: int = 1) -> CloudEvent:
    now = utcnow()
    data = ReportAssignedV1(
        report_id=report_id,
        assignment_id=f"a-{report_id}-{attempt}",
        agency_id=agency,
        agency_name=agency,
        category="pothole",
        due_at=now + timedelta(hours=48),
        attempt=attempt,
        assigned_at=now,
    )
    return event(Topic.REPORT_ASSIGNED, report_id, data, seq, ROUTING)


def resolved(report_id: str, agency: str, seq: int = 2) -> CloudEvent:
    data = ReportResolvedV1(
        report_id=report_id,
        assignment_id=f"a-{report_id}-1",
        agency_id=agency,
        note="Đã vá xong",
        resolved_at=utcnow(),
    )
    return event(Topic.REPORT_RESOLVED, report_id, data, seq, ROUTING)


def escalated(report_id: str, agency: str, seq: int = 5) -> CloudEvent:
    now = utcnow()
    data = ReportEscalatedV1(
        report_id=report_id,
        assignment_id=f"a-{report_id}-1",
        agency_id=agency,
        due_at=now - timedelta(hours=1),
        at=now,
    )
    return event(Topic.REPORT_ESCALATED, report_id, data, seq, ROUTING)


def recategorized(report_id: str, category: str, seq: int = 2) -> CloudEvent:
    data = ReportRecategorizedV1(
        report_id=report_id,
        previous_category="pothole",
        category=category,
        by="ioc",
        reason="not a pothole",
        at=utcnow(),
    )
    return event(Topic.REPORT_RECATEGORIZED, report_id, data, seq, ROUTING)


def catalog(agencies: list[AgencyRefV1], version: int = 1) -> CloudEvent:
    data = CatalogV1(
        version=version,
        published_at=utcnow(),
        categories=[
            CategoryV1(
                code="pothole",
                name={"vi": "Ổ gà", "en": "Pothole"},
                group="roads",
                deadline_hours=48,
            )
        ],
        agencies=agencies,
    )
    return CloudEvent(
        source=ROUTING,
        type=Topic.JURISDICTION_CATALOG,
        subject="catalog",
        sequence=version,
        data=data.model_dump(mode="json"),
    )


class Publisher:
    def __init__(self, bootstrap: str, prefix: str) -> None:
        self.producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
        self.bootstrap = bootstrap
        self.prefix = prefix

    async def __call__(self, ev: CloudEvent) -> None:
        await self.producer.send_and_wait(
            self.prefix + ev.type, encode(ev), key=ev.subject.encode()
        )


@asynccontextmanager
async def running_notify(settings: NotifySettings) -> AsyncIterator[str]:
    """Serves notify on a free port with its real lifespan; yields its base URL."""
    app = build_app(settings)
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=settings.http_port,
        log_config=None,
        lifespan="on",
        timeout_graceful_shutdown=2,
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{settings.http_port}"
    finally:
        server.should_exit = True
        await task


def notify_settings(env: dict[str, Any], **overrides: Any) -> NotifySettings:
    port = free_port()
    return NotifySettings(
        **{
            **env,
            "http_port": port,
            "public_base_url": f"http://127.0.0.1:{port}",
            **overrides,
        }
    )
