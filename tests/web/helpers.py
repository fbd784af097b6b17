"""What every browser test asks: a page that records console errors, an axe-core check with no
serious or critical violation, screenshots kept under /tmp/web-artifacts, staff logins."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

ARTIFACTS = Path("/tmp/web-artifacts")
AXE = Path(__file__).resolve().parent / "vendor" / "axe-core" / "axe.min.js"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


@dataclass
class Console:
    """Console errors, uncaught exceptions and failed requests of one page."""

    errors: list[str] = field(default_factory=list)

    def attach(self, page: Any) -> None:
        page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: self.errors.append(f"pageerror: {e}"))
        page.on(
            "requestfailed",
            lambda r: (
                self.errors.append(f"requestfailed: {r.url} {r.failure}")
                if r.failure != "net::ERR_ABORTED"  # a stream closed by navigation is not an error
                else None
            ),
        )

    def assert_clean(self) -> None:
        assert self.errors == [], "console errors:\n" + "\n".join(self.errors)


async def new_page(
    browser: Any, *, phone: bool = True, lang: str = "en", console: Console | None = None
) -> tuple[Any, Console]:
    """A fresh context and page: phone-sized (390x844, touch) or desktop, browser language
    `lang`; every console error is recorded on the returned `Console`."""
    context = await browser.new_context(
        viewport=PHONE if phone else DESKTOP,
        has_touch=phone,
        is_mobile=phone,
        device_scale_factor=2 if phone else 1,
        locale={"en": "en-GB", "vi": "vi-VN"}.get(lang, lang),
        extra_http_headers={"Accept-Language": lang},
    )
    page = await context.new_page()
    watch = console or Console()
    watch.attach(page)
    return page, watch


async def assert_axe_clean(page: Any, what: str, exclude: list[str] | None = None) -> None:
    """Runs the vendored axe-core on the page (injected through the DevTools protocol, so the
    page's CSP needs no exception) and fails on any serious or critical violation."""
    if not await page.evaluate("typeof window.axe !== 'undefined'"):
        await page.evaluate(AXE.read_text() + "\n;undefined")
    result = await page.evaluate(
        """async (exclude) => {
            const r = await axe.run({exclude: exclude.map(s => [s])}, {resultTypes: ['violations']});
            return r.violations.filter(v => v.impact === 'serious' || v.impact === 'critical')
              .map(v => ({id: v.id, impact: v.impact, help: v.help,
                          nodes: v.nodes.slice(0, 5).map(n => n.target.join(' ') + ' :: ' + n.failureSummary)}));
        }""",
        exclude or [],
    )
    assert result == [], f"axe violations on {what}:\n{json.dumps(result, indent=1)}"


async def screenshot(page: Any, name: str) -> Path:
    """Saves a full-page screenshot as /tmp/web-artifacts/<name>.png and prints the path."""
    await asyncio.to_thread(ARTIFACTS.mkdir, parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    await page.screenshot(path=str(path), full_page=True)
    print(f"screenshot: {path}")
    return path


async def staff_token(routing_url: str, username: str, password: str = "demo") -> str:
    """A bearer token from routing's OAuth2 password endpoint (demo logins: agency id, `demo`)."""
    async with httpx.AsyncClient(timeout=10) as client:
        r = await client.post(
            routing_url + "/api/v1/auth/token", data={"username": username, "password": password}
        )
        assert r.status_code == 200, r.text
        return str(r.json()["access_token"])
