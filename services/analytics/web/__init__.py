"""The heat grid drawn over the map: the page `/map`, its module and style at `/map-static/...`.

Leaflet comes from `/vendor` (`shared.web.mount_vendor`). The base layer is the jurisdiction's
area boundaries, fetched from routing's public `/console/areas.json` (`areas_url`), plus tiles
when `tile_url` is set. Every URL in the page is relative (`/map` has no trailing slash), so the
page also works behind a prefix-stripping ingress (`/stats/map`).
"""

from __future__ import annotations

import html
import json
from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from shared.web import page_csp, page_headers, static_router

HERE = Path(__file__).resolve().parent
STATIC = HERE / "static"


def csp(areas_url: str = "", tile_url: str = "") -> str:
    """Analytics' Content-Security-Policy with this page (`create_app(..., csp=csp(...))`):
    calls to routing's areas, images from the tile server."""
    return page_csp(connect=[areas_url], images=[tile_url])


def router(*, areas_url: str = "", tile_url: str = "", tile_attribution: str = "") -> APIRouter:
    """`areas_url`: routing's `/console/areas.json` (empty: no boundaries); `tile_url`: a
    Leaflet tile template (empty: no tiles)."""
    web = APIRouter(include_in_schema=False)
    config = {"areas": areas_url, "tiles": tile_url, "attribution": tile_attribution}
    page = (HERE / "map.html").read_text(encoding="utf-8")
    page = page.replace("{{config}}", html.escape(json.dumps(config), quote=True))
    headers = dict(page_headers())

    @web.get("/map", response_class=HTMLResponse)
    async def heat_map() -> HTMLResponse:
        return HTMLResponse(page, headers=headers)

    web.include_router(static_router("/map-static", STATIC, "no-cache"))
    return web
