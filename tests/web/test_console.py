"""The operations console in headless Chromium against the real services over HTTP: a report
filed through intake is routed; the routed agency's demo staff log in, open it (photos, map,
timeline) and resolve it with a note and a photo; an operator assigns from the IOC triage
queue; an admin sees the jurisdiction and the logins. No console errors, axe clean, screenshots
in /tmp/web-artifacts/."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import httpx
from PIL import Image

from tests.support import eventually, unique
from tests.web.conftest import WebStack
from tests.web.helpers import assert_axe_clean, new_page, screenshot, staff_token

PHU_HOI = {"lat": 16.459, "lon": 107.599}  # inside the demo ward phu-hoi


def png(color: tuple[int, int, int], size: tuple[int, int] = (64, 48)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, format="PNG")
    return out.getvalue()


async def file_report(intake: str, category: str, description: str) -> str:
    """POST a report with a photo to intake (retried while its catalogue copy is still empty)."""
    body = {"category": category, **PHU_HOI, "description": description, "language": "en"}
    async with httpx.AsyncClient(timeout=10) as client:

        async def post() -> str | None:
            r = await client.post(
                intake + "/api/v1/reports",
                files={
                    "report": (None, json.dumps(body), "application/json"),
                    "photos": ("p.png", png((200, 120, 40)), "image/png"),
                },
            )
            if r.status_code == 503:
                return None
            assert r.status_code == 201, r.text
            return str(r.json()["id"])

        return await eventually(post, timeout=60, interval=0.5, what="intake has the catalogue")


async def assignment(routing: str, report_id: str) -> dict[str, Any]:
    auth = {"Authorization": "Bearer " + await staff_token(routing, "operator")}
    async with httpx.AsyncClient(timeout=10, headers=auth) as client:

        async def routed() -> dict[str, Any] | None:
            r = await client.get(routing + "/api/v1/assignments", params={"report_id": report_id})
            items = r.json()["items"] if r.status_code == 200 else []
            return items[0] if items else None

        return await eventually(routed, timeout=60, interval=0.3, what="report routed")


async def log_in(page: Any, username: str, *, keyboard: bool = False) -> None:
    await page.wait_for_selector("body[data-ready=login]")
    if keyboard:  # Tab from the top of the page to the username field, then type and Enter
        for _ in range(10):
            await page.keyboard.press("Tab")
            if await page.evaluate("document.activeElement.name") == "username":
                break
        await page.keyboard.type(username)
        await page.keyboard.press("Tab")
        await page.keyboard.type("demo")
        await page.keyboard.press("Enter")
    else:
        await page.get_by_label("Username").fill(username)
        await page.get_by_label("Password").fill("demo")
        await page.get_by_role("button", name="Log in").click()


async def test_console_pages_are_served_under_a_prefix(web_stack: WebStack) -> None:
    routing = web_stack.url("routing")
    async with httpx.AsyncClient(timeout=5) as client:
        page = await client.get(routing + "/", headers={"X-Forwarded-Prefix": "/console"})
        assert 'src="/console/console/js/app.js"' in page.text
        bogus = await client.get(routing + "/", headers={"X-Forwarded-Prefix": '/"><script>'})
        assert 'src="/console/js/app.js"' in bogus.text
        assert (await client.get(routing + "/console/js/app.js")).status_code == 200
        assert (await client.get(routing + "/console/vendor/leaflet/leaflet.js")).status_code == 200
        assert (await client.get(routing + "/console/../app.py")).status_code == 404
        areas = (await client.get(routing + "/console/areas.json")).json()["items"]
        assert {a["id"] for a in areas} >= {"phu-hoi", "vinh-ninh", "hue-province"}


async def test_staff_resolve_in_the_console_and_operator_triages(
    web_stack: WebStack, browser: Any, tmp_path: Path
) -> None:
    intake, routing = web_stack.url("intake"), web_stack.url("routing")
    text = unique("Market stalls block the whole sidewalk ")
    report_id = await file_report(intake, "sidewalk-encroachment", text)
    routed = await assignment(routing, report_id)
    assert routed["agency_id"] == "phu-hoi-ward"

    page, console = await new_page(browser, phone=True, lang="en")
    await page.goto(routing + "/")
    await page.wait_for_selector("body[data-ready=login]")
    await assert_axe_clean(page, "console login")
    await screenshot(page, "console-01-login")
    await log_in(page, "phu-hoi-ward")
    item = page.locator(f'li.item[data-report="{report_id}"]')
    await item.wait_for()
    await page.wait_for_selector("body[data-ready=queue]")
    await assert_axe_clean(page, "staff queue")
    await screenshot(page, "console-02-queue")

    await item.locator("a.title").click()
    await page.wait_for_selector("body[data-ready=detail]")
    await page.wait_for_selector(f"text={text}")  # intake's public view: the description
    await page.wait_for_selector(".public .photos img")
    await page.wait_for_selector("#detail-map path.leaflet-interactive")  # areas base layer
    assert await page.locator("text=@").count() == 0  # no contact anywhere
    await assert_axe_clean(page, "assignment detail")
    await screenshot(page, "console-03-detail")

    photo = tmp_path / "result.png"
    photo.write_bytes(png((40, 160, 90), (2400, 1600)))
    resolve = page.locator('form[data-action="resolve"]')
    await resolve.get_by_label("What was done").fill("Stalls moved back, sidewalk clear.")
    await resolve.locator('input[type="file"]').set_input_files(str(photo))
    await resolve.get_by_role("button", name="Resolve").click()
    await page.wait_for_selector('h1[data-status="resolved"]')
    await page.wait_for_selector('.timeline li[data-action="resolve"]')
    await page.wait_for_selector('section.photos[aria-label="Resolution photos"] img')
    await assert_axe_clean(page, "resolved detail")
    await screenshot(page, "console-04-resolved")
    await page.context.close()
    console.assert_clean()

    done = await assignment(routing, report_id)
    assert (done["status"], len(done["photo_urls"])) == ("resolved", 1)
    async with httpx.AsyncClient(timeout=10) as client:
        r = await client.get(done["photo_urls"][0])
        assert r.status_code == 200
        assert max(Image.open(io.BytesIO(r.content)).size) <= 1600  # resized in the browser

    # An operator (keyboard only for the login) sees the IOC triage queue and assigns by hand.
    stray = await file_report(intake, "other", unique("Something odd by the river "))
    assert (await assignment(routing, stray))["agency_id"] == "ioc"
    page, console = await new_page(browser, phone=False, lang="en")
    await page.goto(routing + "/#/triage")
    await log_in(page, "operator", keyboard=True)
    row = page.locator(f'li.item[data-report="{stray}"]')
    await row.wait_for()
    await page.wait_for_selector("body[data-ready=triage]")
    await assert_axe_clean(page, "triage queue")
    await screenshot(page, "console-05-triage")
    await row.locator("a.title").click()
    await page.wait_for_selector("body[data-ready=detail]")
    assign = page.locator('form[data-action="assign"]')
    await assign.get_by_label("To agency").select_option("hue-urenco")
    await assign.get_by_role("button", name="Assign by hand").click()
    await page.wait_for_selector('.timeline li[data-action="assign"]')
    await assert_axe_clean(page, "operator detail")
    await screenshot(page, "console-06-assigned")
    await page.context.close()
    console.assert_clean()
    assert (await assignment(routing, stray))["agency_id"] == "hue-urenco"


async def test_admin_sees_the_jurisdiction_and_accounts_in_vietnamese(
    web_stack: WebStack, browser: Any
) -> None:
    page, console = await new_page(browser, phone=True, lang="vi")
    await page.goto(web_stack.url("routing") + "/")
    await page.wait_for_selector("body[data-ready=login]")
    assert await page.inner_text("h1") == "Đăng nhập"
    await page.get_by_label("Tên đăng nhập").fill("admin")
    await page.get_by_label("Mật khẩu").fill("demo")
    await page.get_by_role("button", name="Đăng nhập").click()
    await page.wait_for_selector("body[data-ready=queue]")  # the demo admin is an operator too
    await page.get_by_role("link", name="Địa bàn").click()
    await page.wait_for_selector("body[data-ready=jurisdiction]")
    await page.wait_for_selector("#areas-map path.leaflet-interactive")
    assert await page.locator("th[scope=row]", has_text="phu-hoi").count() >= 1
    await assert_axe_clean(page, "jurisdiction")
    await screenshot(page, "console-07-jurisdiction")
    await page.get_by_role("link", name="Tài khoản").click()
    await page.wait_for_selector("body[data-ready=accounts]")
    assert await page.locator("th[scope=row]", has_text="phu-hoi-ward").count() == 1
    await page.get_by_role("button", name="English").click()
    await page.wait_for_selector("h1:text('Accounts')")
    await assert_axe_clean(page, "accounts")
    await screenshot(page, "console-08-accounts")
    await page.context.close()
    console.assert_clean()


async def test_heat_grid_over_the_area_map(web_stack: WebStack, browser: Any) -> None:
    """After the reports above: analytics' grid cells drawn over routing's area boundaries."""
    analytics = web_stack.url("analytics")
    async with httpx.AsyncClient(timeout=5) as client:

        async def counted() -> bool:
            r = await client.get(analytics + "/api/v1/stats/grid", params={"cell": "0.005"})
            return r.status_code == 200 and len(r.json()["cells"]) >= 1

        await eventually(counted, timeout=60, interval=0.3, what="analytics projected")
    page, console = await new_page(browser, phone=True, lang="en")
    await page.goto(analytics + "/map")
    await page.wait_for_selector("body[data-ready=true]")
    await page.wait_for_selector("#heat-map path.heat-cell")
    await page.wait_for_selector("#heat-map path.leaflet-interactive:not(.heat-cell)")  # areas
    assert int(await page.get_attribute("body", "data-cells") or 0) >= 1
    assert await page.inner_text("h1") == "Reports heat map"
    await assert_axe_clean(page, "heat map")
    await screenshot(page, "console-09-heat-map")
    await page.context.close()
    console.assert_clean()


async def test_operator_changes_the_category_in_the_console(
    web_stack: WebStack, browser: Any
) -> None:
    """The "change category" action: the report is re-routed and intake's public view follows."""
    intake, routing = web_stack.url("intake"), web_stack.url("routing")
    report_id = await file_report(intake, "garbage", unique("Big tree fell across the lane "))
    routed = await assignment(routing, report_id)
    page, console = await new_page(browser, phone=False, lang="en")
    await page.goto(f"{routing}/#/a/{routed['id']}")
    await log_in(page, "operator")
    await page.wait_for_selector("body[data-ready=detail]")
    change = page.locator('form[data-action="recategorize"]')
    await change.get_by_label("Right category").select_option("fallen-tree")
    await change.get_by_role("button", name="Change category").click()
    await page.wait_for_selector('.timeline li[data-action="recategorize"]')
    await assert_axe_clean(page, "recategorized detail")
    await screenshot(page, "console-10-recategorized")
    await page.context.close()
    console.assert_clean()
    async with httpx.AsyncClient(timeout=5) as client:

        async def public_category() -> bool:
            view = await client.get(f"{intake}/api/v1/reports/{report_id}")
            return bool(view.json()["category"] == "fallen-tree")

        await eventually(public_category, timeout=60, interval=0.3, what="intake followed")
