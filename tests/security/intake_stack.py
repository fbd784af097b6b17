"""Intake for the security tests of its edge (tests/security/test_intake_*.py): a running one of
its own (real embedded broker and database, catalogue consumed, the limits a test asks for),
clients with a chosen source address, and an app that never connects, for refusals that happen
before any storage is touched."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
from fastapi.testclient import TestClient

from services.intake.app import build_app
from services.intake.settings import IntakeSettings
from tests.conftest import Infra
from tests.intake.conftest import report_body
from tests.intake.isolated import Isolated, isolated_intake
from tests.intake.test_photos_sanitize import jpeg_with_gps

__all__ = ["Isolated", "client", "edge_client", "filed", "running_intake"]


@asynccontextmanager
async def running_intake(infra: Infra, name: str, **settings: Any) -> AsyncIterator[Isolated]:
    async with isolated_intake(infra, name, **settings) as run:
        yield run


def client(run: Isolated, ip: str) -> httpx.AsyncClient:
    """A client whose connection comes from `ip` (what uvicorn would give as the peer)."""
    transport = httpx.ASGITransport(app=run.asgi, client=(ip, 40000))
    return httpx.AsyncClient(transport=transport, base_url="http://test")


def edge_client(**settings: Any) -> TestClient:
    """Intake without its lifespan: nothing connects, so only refusals made before any storage
    or broker is used can be observed. No rate limits unless asked."""
    limits = {f"rate_limit_{name}_burst": 0 for name in ("create", "read", "act", "suggest")}
    values = {"environment": "test", **limits, "rate_limit_resident_token_burst": 0, **settings}
    return TestClient(build_app(IntakeSettings(**values)))


async def filed(http: httpx.AsyncClient, *, photo: bool = False) -> dict[str, Any]:
    """A report filed through the API (with one photo if asked): its created view."""
    if photo:
        files = [("photos", ("a.jpg", jpeg_with_gps(), "image/jpeg"))]
        data = {"report": json.dumps(report_body())}
        created = await http.post("/api/v1/reports", data=data, files=files)
    else:
        created = await http.post("/api/v1/reports", json=report_body())
    assert created.status_code == 201, created.text
    body: dict[str, Any] = created.json()
    return body
