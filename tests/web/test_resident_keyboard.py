"""The resident app with the keyboard alone, and with the map's tile server unreachable: the
report is filed with typed coordinates and the public map still shows it over the area
boundaries (the tile failures are the only console errors, and the page says so)."""

from __future__ import annotations

from typing import Any

import pytest

from devstack.servers import free_port
from tests.web.conftest import Overrides, WebStack
from tests.web.helpers import assert_axe_clean, new_page, screenshot

DEAD_TILES = f"http://127.0.0.1:{free_port()}/{{z}}/{{x}}/{{y}}.png"  # nothing listens there


@pytest.fixture(scope="module")
def web_overrides() -> Overrides:
    return lambda urls: {"intake": {"map_tile_url": DEAD_TILES, "map_tile_attribution": "Tiles"}}


async def tab_to(page: Any, selector: str, limit: int = 40) -> None:
    for _ in range(limit):
        await page.keyboard.press("Tab")
        if await page.evaluate("(s) => document.activeElement?.matches(s)", selector):
            return
    raise AssertionError(f"Tab never reached {selector}")


async def choose(page: Any, value: str, limit: int = 20) -> None:
    """Arrow keys on the focused select until it shows `value`."""
    for _ in range(limit):
        if await page.evaluate("document.activeElement.value") == value:
            return
        await page.keyboard.press("ArrowDown")
    raise AssertionError(f"no option {value}")


async def test_keyboard_only_with_tiles_unreachable(web_stack: WebStack, browser: Any) -> None:
    page, console = await new_page(browser, phone=False, lang="vi")
    await page.goto(web_stack.url("intake") + "/")
    await page.wait_for_selector("body[data-ready=true]")
    assert await page.inner_text("#new-h") == "Gửi phản ánh mới"
    await tab_to(page, "#f-category")
    await choose(page, "pothole")
    await tab_to(page, "#attr-size")
    await choose(page, "large")
    await tab_to(page, "#f-lat")
    await page.keyboard.type("16.4601")
    await tab_to(page, "#f-lon")
    await page.keyboard.type("107.5852")
    await tab_to(page, "#f-description")
    await page.keyboard.type("Ổ gà lớn giữa đường")
    await tab_to(page, "#submit")
    await page.keyboard.press("Enter")
    await page.wait_for_selector("#created:not([hidden])")
    assert await page.evaluate("document.activeElement.id") == "created"
    report_id = (await page.input_value("#tracking-url")).split("#/track/")[1].split("?")[0]
    await screenshot(page, "resident-kb-01-sent")

    await tab_to(page, 'a[data-nav="map"]')
    await page.keyboard.press("Enter")
    await page.wait_for_selector(f'#report-list li[data-report-id="{report_id}"]')
    await page.wait_for_selector("#map-notice:not([hidden])", timeout=15000)
    assert await page.locator("#public-map path").count() >= 5  # area boundaries + the report
    await tab_to(page, f'#report-list li[data-report-id="{report_id}"] a')
    await page.keyboard.press("Enter")
    await page.wait_for_selector("#report-body:not([hidden])")
    assert await page.inner_text("#r-description") == "Ổ gà lớn giữa đường"
    await assert_axe_clean(page, "public view (keyboard, no tiles)")
    await screenshot(page, "resident-kb-02-public-view")
    await page.context.close()
    others = [e for e in console.errors if "net::ERR_CONNECTION_REFUSED" not in e]
    assert others == [], others
