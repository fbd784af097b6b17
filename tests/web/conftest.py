"""Browser-test harness: the four services over real HTTP (uvicorn on free ports, the session's
embedded broker and database), their pages mounted, and Debian's headless chromium driven by
Playwright. See tests/web/README.md."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI

from devstack.servers import free_port
from services.analytics.app import build_app as build_analytics
from services.analytics.settings import AnalyticsSettings
from services.intake.app import build_app as build_intake
from services.intake.settings import IntakeSettings
from services.notify.app import build_app as build_notify
from services.notify.settings import NotifySettings
from services.routing.app import build_app as build_routing
from services.routing.settings import RoutingSettings
from shared.kafka import all_topics, ensure_topics
from tests.conftest import Infra
from tests.support import eventually, unique

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SERVICES = ("intake", "routing", "notify", "analytics")

# Settings per service a test module changes: fn(urls) -> {service: {setting: value}}.
Overrides = Callable[[dict[str, str]], dict[str, dict[str, Any]]]


@dataclass
class WebStack:
    urls: dict[str, str]
    apps: dict[str, FastAPI] = field(default_factory=dict)

    def url(self, service: str) -> str:
        return self.urls[service]


@pytest.fixture(scope="module")
def web_overrides() -> Overrides:
    """Settings a test module changes (override this fixture), e.g. a dead tile server."""
    return lambda urls: {}


@pytest.fixture(scope="session")
def chromium() -> Path:
    """Debian's chromium: missing, the test fails instead of skipping."""
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (apt-get install chromium)")
    return CHROMIUM


def _settings(
    infra: Infra, prefix: str, urls: dict[str, str], ports: dict[str, int], extra: Overrides
) -> dict[str, Any]:
    def common(svc: str) -> dict[str, Any]:
        return {
            "environment": "test",
            "http_port": ports[svc],
            "kafka_bootstrap_servers": infra.kafka,
            "kafka_topic_prefix": prefix,
            "mongodb_uri": infra.mongodb_uri,
            "mongodb_db": unique(f"web_{svc}_"),
            "outbox_poll_interval_s": 0.2,
            "consumer_retry_backoff_s": 0.05,
        }

    def others(svc: str) -> str:
        return ",".join(url for name, url in urls.items() if name != svc)

    # The pages' settings, as devstack sets them for `make run` (each service its own origin).
    pages: dict[str, dict[str, Any]] = {
        "intake": {
            "web_notify_url": urls["notify"],
            "web_routing_url": urls["routing"],
            "web_analytics_url": urls["analytics"],
            "web_allowed_origins": others("intake"),
        },
        "routing": {"console_intake_url": urls["intake"]},
        "notify": {"web_allowed_origins": others("notify"), "sse_poll_interval_s": 0.2},
        "analytics": {"areas_url": urls["routing"] + "/console/areas.json"},
    }
    for svc, changes in extra(urls).items():
        pages[svc].update(changes)
    classes = {
        "intake": IntakeSettings,
        "routing": RoutingSettings,
        "notify": NotifySettings,
        "analytics": AnalyticsSettings,
    }
    return {
        svc: cls(**common(svc), public_base_url=urls[svc], **pages[svc])
        if svc != "analytics"
        else cls(**common(svc), **pages[svc])
        for svc, cls in classes.items()
    }


BUILDERS: dict[str, Callable[[Any], FastAPI]] = {
    "intake": build_intake,
    "routing": build_routing,
    "notify": build_notify,
    "analytics": build_analytics,
}


@pytest.fixture(scope="module")
async def web_stack(infra: Infra, web_overrides: Overrides) -> AsyncIterator[WebStack]:
    """The four services on free ports, with their pages configured as `make run` does (each
    service its own origin, CORS for the others); returns once all four are ready."""
    prefix = f"w{uuid.uuid4().hex[:10]}."
    await ensure_topics(infra.kafka, all_topics(prefix), partitions=3)
    ports = {svc: free_port() for svc in SERVICES}
    urls = {svc: f"http://127.0.0.1:{port}" for svc, port in ports.items()}
    settings = _settings(infra, prefix, urls, ports, web_overrides)
    stack = WebStack(urls)
    servers, tasks = [], []
    for svc in SERVICES:
        app = BUILDERS[svc](settings[svc])
        stack.apps[svc] = app
        config = uvicorn.Config(app, host="127.0.0.1", port=ports[svc], log_config=None)
        servers.append(uvicorn.Server(config))
        tasks.append(asyncio.create_task(servers[-1].serve()))
    try:
        async with httpx.AsyncClient(timeout=5) as client:
            for svc in SERVICES:

                async def ready(svc: str = svc) -> bool:
                    with contextlib.suppress(httpx.HTTPError):
                        r = await client.get(urls[svc] + "/health/ready")
                        return r.status_code == 200
                    return False

                await eventually(ready, timeout=90, interval=0.3, what=f"{svc} ready")

            async def catalogue() -> bool:  # the pages list categories at once
                with contextlib.suppress(httpx.HTTPError):
                    r = await client.get(urls["intake"] + "/api/v1/categories")
                    return r.status_code == 200
                return False

            await eventually(catalogue, timeout=60, interval=0.3, what="intake's catalogue")
        yield stack
    finally:
        for server in servers:
            server.should_exit = True
        await asyncio.gather(*tasks, return_exceptions=True)


@pytest.fixture(scope="module")
async def browser(chromium: Path) -> AsyncIterator[Any]:
    """One headless chromium per test module (Playwright's `Browser`)."""
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        b = await pw.chromium.launch(executable_path=str(chromium), args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            await b.close()
