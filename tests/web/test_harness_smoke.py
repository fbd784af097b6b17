"""The harness itself: the vendored Leaflet is served, axe-core runs, console is clean."""

from __future__ import annotations

from typing import Any

import httpx

from tests.web.conftest import WebStack
from tests.web.helpers import assert_axe_clean, new_page


async def test_vendor_is_served_by_every_service_with_a_map(web_stack: WebStack) -> None:
    pages = {"intake": "/vendor", "routing": "/console/vendor", "analytics": "/vendor"}
    async with httpx.AsyncClient(timeout=5) as client:
        for svc, vendor in pages.items():
            r = await client.get(web_stack.url(svc) + vendor + "/leaflet/leaflet.js")
            assert r.status_code == 200
            assert r.headers["content-type"].startswith("text/javascript")
            assert (await client.get(web_stack.url(svc) + vendor + "/../app.py")).status_code == 404
        r = await client.options(
            web_stack.url("intake") + "/api/v1/reports",
            headers={
                "Origin": web_stack.url("routing"),
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "idempotency-key",
            },
        )
        assert r.headers["access-control-allow-origin"] == web_stack.url("routing")


async def test_resident_page_loads_clean(web_stack: WebStack, browser: Any) -> None:
    page, console = await new_page(browser)
    await page.goto(web_stack.url("intake") + "/")
    await page.wait_for_selector("body[data-ready=true]")
    await assert_axe_clean(page, "resident home")
    await page.context.close()
    console.assert_clean()
