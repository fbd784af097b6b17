"""The operations console, served by routing itself: `/` (the page), `/console/...` (its ES
modules, style and the vendored Leaflet) and `/console/areas.json` (the area boundaries, the
map's base layer when no tile server is reachable).

No build step: the files under `static/` are what the browser runs. The page talks to
routing's own API (same origin, so no CORS for it); the only cross-origin calls are to intake's
public report view and photos (`intake_url`; `/` under one host, where intake is `/`).

Behind a path-prefix ingress (`/console` -> routing, prefix stripped) the proxy sends
`X-Forwarded-Prefix: /console`: the page's asset URLs start with it (no `<base>`: the CSP
says `base-uri 'none'`), and the scripts derive the API root from their own URL, so every call
stays under the prefix.
"""

from __future__ import annotations

import html
import json
import re
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse

from shared.web import VENDOR, page_csp, page_headers, static_router

HERE = Path(__file__).resolve().parent
STATIC = HERE / "static"
PREFIX = re.compile(r"^(/[A-Za-z0-9._~-]+)*$")


def csp(intake_url: str = "", tile_url: str = "") -> str:
    """Routing's Content-Security-Policy with the console (`create_app(..., csp=csp(...))`):
    scripts and styles from routing only; API calls to routing and intake; images also from
    intake (the residents' photos) and the tile server."""
    return page_csp(connect=[intake_url], images=[intake_url, tile_url])


def _page(request: Request, template: str, config: dict[str, str]) -> str:
    prefix = request.headers.get("x-forwarded-prefix", "").rstrip("/")
    if not PREFIX.match(prefix):
        prefix = ""
    return template.replace("{{base}}", html.escape(prefix + "/", quote=True)).replace(
        "{{config}}", html.escape(json.dumps(config), quote=True)
    )


async def _areas(request: Request) -> list[dict[str, Any]]:
    jurisdiction = await request.app.state.routing.admin.current()
    return [
        {"id": a.id, "level": a.level, "parent": a.parent, "name": a.name, "geometry": a.geometry}
        for a in jurisdiction.areas
    ]


def router(*, intake_url: str = "", tile_url: str = "", tile_attribution: str = "") -> APIRouter:
    """`intake_url`: intake's base URL for the public report view (`/` under one host, empty:
    not shown); `tile_url`: a Leaflet tile template (empty: no tiles, the areas are the base
    layer)."""
    web = APIRouter(include_in_schema=False)
    template = (HERE / "page.html").read_text(encoding="utf-8")
    config = {"intake": intake_url, "tiles": tile_url, "attribution": tile_attribution}
    headers = {**page_headers(), "Vary": "X-Forwarded-Prefix"}

    @web.get("/", response_class=HTMLResponse)
    async def console_page(request: Request) -> HTMLResponse:
        return HTMLResponse(_page(request, template, config), headers=headers)

    @web.get("/console/areas.json")
    async def console_areas(request: Request) -> JSONResponse:
        """Public: the area boundaries (other services' maps fetch them too, hence `*`: public
        data, no credentials)."""
        body = {"items": await _areas(request)}
        cors = {"Access-Control-Allow-Origin": "*", "Cache-Control": "public, max-age=300"}
        return JSONResponse(body, headers=cors)

    web.include_router(static_router("/console/vendor", VENDOR, "public, max-age=86400"))
    web.include_router(static_router("/console", STATIC, "no-cache"))
    return web
