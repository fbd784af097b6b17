"""The resident web app: the page at `/`, its scripts and styles at `/web/...`, and
`/web/config.json` (where the page finds notify's status stream, the tile server, the limits).

Plain ES modules in `static/`, no build step; Leaflet comes from `/vendor` (`shared.web`).
The page is one document with hash routes (`#/`, `#/map`, `#/report/<id>`,
`#/track/<id>?token=<token>`): the tracking token stays in the URL fragment, which a browser
never sends to a server, so it appears in no access log.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from fastapi import APIRouter
from fastapi.responses import FileResponse, JSONResponse

from shared.web import page_csp, page_headers, static_router

STATIC = Path(__file__).resolve().parent / "static"


@dataclass(frozen=True)
class WebConfig:
    """What the page needs to know, from intake's settings (see the lead's notes)."""

    notify_url: str = "http://127.0.0.1:8003"  # base of `/api/v1/reports/{id}/stream`
    routing_url: str = "http://127.0.0.1:8002"  # the operations console (a link only)
    analytics_url: str = "http://127.0.0.1:8004"  # the statistics dashboard (a link only)
    tile_url: str = ""  # e.g. https://tile.openstreetmap.org/{z}/{x}/{y}.png; "" = no tiles
    tile_attribution: str = ""
    areas_url: str = "/web/areas.geojson"  # the base layer: the jurisdiction's area boundaries
    map_center: tuple[float, float] = (16.4637, 107.5909)  # Huế
    map_zoom: int = 14
    max_photos: int = 5
    photo_max_px: int = 1600  # long edge after the in-browser resize
    duplicate_radius_m: float = 150.0

    def public(self) -> dict[str, Any]:
        return asdict(self)

    def csp(self) -> str:
        """The page's policy: notify's stream, and tiles from the tile server."""
        return page_csp(connect=[self.notify_url], images=[self.tile_url] if self.tile_url else [])


def router(config: WebConfig | None = None) -> APIRouter:
    """`/` (the page), `/web/config.json` and the static files under `/web/`."""
    cfg = config or WebConfig()
    headers = dict(page_headers())
    web = APIRouter(include_in_schema=False)

    @web.get("/")
    async def page() -> FileResponse:
        return FileResponse(STATIC / "index.html", media_type="text/html", headers=headers)

    @web.get("/web/config.json")
    async def config_json() -> JSONResponse:
        return JSONResponse(cfg.public(), headers={"Cache-Control": "no-cache"})

    web.include_router(static_router("/web", STATIC, "no-cache"))
    return web
