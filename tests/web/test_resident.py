"""The resident web app in headless Chromium on a phone-sized screen, against the four real
services: file a report with a photo, find it on the public map, +1 it instead of filing it
again, and watch the open tracking page turn `resolved` (staff resolve it through routing's
HTTP API) without a reload, then rate it. No console error, no serious axe violation."""

from __future__ import annotations

import contextlib
import io
from pathlib import Path
from typing import Any

import httpx
from PIL import Image

from tests.support import eventually
from tests.web.conftest import WebStack
from tests.web.helpers import assert_axe_clean, new_page, screenshot, staff_token

AGENCY = "transport-dept"  # the demo rule for potholes anywhere in the province


def photo(tmp: Path) -> Path:
    """A 2400x1800 JPEG: the page must shrink it before upload."""
    path = tmp / "pothole.jpg"
    image = Image.new("RGB", (2400, 1800), (120, 110, 100))
    for x in range(0, 2400, 200):
        image.paste((200, 60, 40), (x, 800, x + 100, 1000))
    buf = io.BytesIO()
    image.save(buf, "JPEG", quality=90)
    path.write_bytes(buf.getvalue())
    return path


async def notify_knows(stack: WebStack, report_id: str) -> None:
    """The tracking page opens notify's stream at once; wait until notify heard of the report
    (before that the stream answers 404 and the page retries, with a console error)."""
    url = f"{stack.url('notify')}/api/v1/reports/{report_id}/stream"

    async def ready() -> bool:
        with contextlib.suppress(httpx.HTTPError):
            async with httpx.AsyncClient(timeout=5) as client, client.stream("GET", url) as r:
                return r.status_code == 200
        return False

    await eventually(ready, timeout=30, what="notify knows the report")


async def resolve_as_staff(stack: WebStack, report_id: str) -> None:
    token = await staff_token(stack.url("routing"), AGENCY)
    auth = {"Authorization": f"Bearer {token}"}
    base = stack.url("routing") + "/api/v1/assignments"
    async with httpx.AsyncClient(timeout=10, headers=auth) as client:

        async def assigned() -> str | None:
            items = (await client.get(base, params={"report_id": report_id})).json()["items"]
            return str(items[0]["id"]) if items else None

        one = await eventually(assigned, timeout=30, what="assignment in the agency's queue")
        for action, body in (("accept", None), ("start", None), ("resolve", {"note": "Patched."})):
            r = await client.post(f"{base}/{one}/{action}", json=body)
            assert r.status_code == 200, r.text


async def file_report(
    page: Any, photo_path: Path, description: str, at: tuple[float, float] | None = None
) -> None:
    """Category and its required attribute, location by tapping the map (or typed), a photo."""
    await page.select_option("#f-category", "pothole")
    await page.select_option("#attr-size", "medium")
    if at is None:
        box = await page.locator("#pick-map").bounding_box()
        await page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        assert await page.input_value("#f-lat") != ""
    else:
        await page.fill("#f-lat", str(at[0]))
        await page.fill("#f-lon", str(at[1]))
    await page.fill("#f-description", description)
    await page.set_input_files("#f-photos", str(photo_path))
    await page.wait_for_selector("#photo-previews img")


async def test_resident_files_follows_and_rates_a_report(
    web_stack: WebStack, browser: Any, tmp_path: Path
) -> None:
    intake = web_stack.url("intake")
    page, console = await new_page(browser, phone=True, lang="en")
    await page.goto(intake + "/")
    await page.wait_for_selector("body[data-ready=true]")
    assert await page.inner_text("#new-h") == "Report a problem"
    await assert_axe_clean(page, "report form")
    assert await page.evaluate("document.documentElement.scrollWidth <= innerWidth")
    await file_report(page, photo(tmp_path), "Deep pothole in front of the school")
    await screenshot(page, "resident-01-form-filled")
    await page.click("#submit")
    await page.wait_for_selector("#created:not([hidden])")
    tracking_url = await page.input_value("#tracking-url")
    assert "#/track/" in tracking_url
    assert "token=" in tracking_url.split("#", 1)[1]  # the token only in the fragment
    report_id = tracking_url.split("#/track/")[1].split("?")[0]
    await assert_axe_clean(page, "report sent")
    await screenshot(page, "resident-02-sent")

    async with httpx.AsyncClient(base_url=intake, timeout=5) as client:
        view = (await client.get(f"/api/v1/reports/{report_id}")).json()
    assert len(view["photos"]) == 1
    async with httpx.AsyncClient(timeout=5) as client:
        uploaded = (await client.get(intake + view["photos"][0]["url"])).content
    assert max(Image.open(io.BytesIO(uploaded)).size) <= 1600  # resized in the browser

    # The public map shows it, as a marker and in the list.
    await page.click('a[data-nav="map"]')
    await page.wait_for_selector(f'#report-list li[data-report-id="{report_id}"]')
    assert await page.locator("#public-map path.leaflet-interactive").count() >= 1
    await page.select_option("#m-status", "rejected")
    await page.click("#filters button[type=submit]")
    await page.wait_for_selector("#view-map[data-loaded='0']")
    await page.select_option("#m-status", "")
    await page.click("#filters button[type=submit]")
    await page.wait_for_selector(f'#report-list li[data-report-id="{report_id}"]')
    await assert_axe_clean(page, "public map")
    await screenshot(page, "resident-03-public-map")

    # Filing the same problem again offers a +1 on the first one instead.
    await page.click('a[data-nav="new"]')
    await page.click("#another")
    await file_report(page, photo(tmp_path), "Same pothole", at=(view["lat"], view["lon"]))
    item = page.locator("#nearby-list li", has_text="Deep pothole")
    await item.locator("button").click()
    await page.wait_for_selector("#nearby-list li button:disabled")
    await assert_axe_clean(page, "duplicates nearby")
    await screenshot(page, "resident-04-nearby-support")

    # The tracking page, left open while staff resolve the report.
    await notify_knows(web_stack, report_id)
    track, track_console = await new_page(browser, phone=True, lang="en")
    await track.goto(tracking_url)
    await track.wait_for_selector("#report-body:not([hidden])")
    await track.wait_for_selector("#r-timeline li")
    assert await track.inner_text("#r-supporters") == "1"
    await track.evaluate("window.__notReloaded = true")
    await assert_axe_clean(track, "tracking page")
    await screenshot(track, "resident-05-tracking-open")

    await resolve_as_staff(web_stack, report_id)
    await track.wait_for_selector("#view-report[data-status=resolved]", timeout=30000)
    assert await track.evaluate("window.__notReloaded === true")
    assert await track.inner_text("#r-status") == "Resolved"
    await track.wait_for_selector("#r-timeline li:has-text('Patched.')")
    await track.wait_for_selector("#rate-form:not([hidden])")
    await assert_axe_clean(track, "tracking page, resolved")
    assert await track.evaluate("document.documentElement.scrollWidth <= innerWidth")  # phone fit
    await screenshot(track, "resident-06-resolved")

    await track.click("#stars label:nth-child(4)")
    await track.fill("#rate-comment", "Quick, thank you")
    await track.click("#rate-form button[type=submit]")
    await track.wait_for_selector("#rated:not([hidden])")
    await track.wait_for_selector("#view-report[data-status=closed]", timeout=30000)
    assert await track.evaluate("window.__notReloaded === true")
    await screenshot(track, "resident-07-rated")

    await track.click('button[data-lang="vi"]')
    await track.wait_for_selector("#r-status:text-is('Đã đóng')")
    assert await track.get_attribute("html", "lang") == "vi"
    await assert_axe_clean(track, "tracking page in Vietnamese")
    async with httpx.AsyncClient(base_url=intake, timeout=5) as client:
        final = (await client.get(f"/api/v1/reports/{report_id}")).json()
    assert final["status"] == "closed"
    await page.context.close()
    await track.context.close()
    console.assert_clean()
    track_console.assert_clean()
