"""The dashboard in headless Chromium (Debian's package): numbers as the API gives them, no errors."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from devstack.servers import free_port
from services.analytics.app import build_app
from shared.kafka import all_topics, ensure_topics
from shared.outbox import encode
from tests.analytics.conftest import analytics_settings
from tests.analytics.factory import EXPECTED_STATUS, catalog_event, stories
from tests.conftest import Infra
from tests.support import eventually, unique

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOT = Path("/tmp/analytics_dashboard.png")


@pytest.fixture(scope="module")
def chromium() -> Path:
    """Debian's chromium (`.ci/run` installs it): missing, the test fails instead of skipping."""
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (apt-get install chromium)")
    return CHROMIUM


@pytest.fixture(scope="module")
async def dashboard_url(infra: Infra) -> AsyncIterator[str]:
    """Analytics over real TCP (uvicorn) with the standard data set projected."""
    prefix = f"t{uuid.uuid4().hex[:10]}."
    await ensure_topics(infra.kafka, all_topics(prefix), partitions=3)
    settings = analytics_settings(infra, prefix, unique("analytics_ui_"))
    app = build_app(settings)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None))
    task = asyncio.create_task(server.serve())
    url = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient(base_url=url, timeout=5) as client:

            async def ready() -> bool:
                with contextlib.suppress(httpx.HTTPError):
                    return (await client.get("/health/ready")).status_code == 200
                return False

            await eventually(ready, timeout=60, what="analytics ready")
            broker = app.state.runtime.broker
            events = [catalog_event(2, "Department of Transport")]
            events += [e for s in stories() for e in s.events]
            for e in events:
                await broker.publish(encode(e), settings.topic(e.type), key=e.subject.encode())

            async def projected() -> bool:
                body = (await client.get("/api/v1/stats/summary")).json()
                return bool(body["by_status"] == EXPECTED_STATUS)

            await eventually(projected, timeout=60, what="events projected")
        yield url
    finally:
        server.should_exit = True
        await task


async def api(url: str, path: str, **params: Any) -> Any:
    async with httpx.AsyncClient(base_url=url, timeout=5) as client:
        return (await client.get(path, params=params)).json()


async def test_dashboard_shows_the_api_numbers_without_console_errors(
    chromium: Path, dashboard_url: str
) -> None:
    from playwright.async_api import async_playwright

    summary = await api(dashboard_url, "/api/v1/stats/summary", lang="en")
    board = await api(dashboard_url, "/api/v1/stats/scoreboard", lang="en")
    cats = await api(dashboard_url, "/api/v1/stats/categories", lang="en")
    series = await api(dashboard_url, "/api/v1/stats/timeseries", interval="day")
    errors: list[str] = []
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=str(chromium), args=ARGS)
        try:
            page = await browser.new_page(
                viewport={"width": 390, "height": 844},
                locale="en-GB",
                extra_http_headers={"Accept-Language": "en"},
            )
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))
            await page.goto(dashboard_url + "/")
            await page.wait_for_selector("body[data-loaded=true]", timeout=15000)
            assert await page.inner_text("h1") == "Field reports — Statistics"
            total = await page.get_attribute('.card[data-key="total"]', "data-value")
            overdue = await page.inner_text('.card[data-key="overdue"] .value')
            assert (total, overdue) == (str(summary["total"]), str(summary["overdue_now"]))
            rows = await page.eval_on_selector_all(
                "#scoreboard tbody tr",
                "rs => rs.map(r => [r.dataset.agency, r.querySelector('[data-col=received]').textContent,"
                " Number(r.querySelector('[data-col=resolved_on_time_pct]').dataset.value)])",
            )
            assert rows == [
                [r["agency_id"], str(r["received"]), r["resolved_on_time_pct"]]
                for r in board["items"]
            ]
            bars = await page.eval_on_selector_all(
                "#categories rect[data-category]",
                "bs => bs.map(b => [b.dataset.category, Number(b.dataset.count)])",
            )
            assert bars == [[c["category"], c["received"]] for c in cats["items"]]
            points = await page.eval_on_selector_all(
                "#trend circle[data-series=created]", "cs => cs.map(c => Number(c.dataset.value))"
            )
            assert points == [p["created"] for p in series["items"]]
            assert await page.locator("#heat rect.cell").count() >= 1
            await page.screenshot(path=str(SCREENSHOT), full_page=True)
            await page.click('button[data-lang="vi"]')
            await page.wait_for_function(
                "document.querySelector('h1').textContent.includes('Thống kê')"
            )
        finally:
            await browser.close()
    assert errors == []
