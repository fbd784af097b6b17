"""The dashboard page at `/` (its script and style are served from `/static`)."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from services.analytics.api.deps import DashboardDep, LangDep

STATIC = Path(__file__).resolve().parent.parent / "static"

dashboard_router = APIRouter(tags=["dashboard"])


@dashboard_router.get("/", response_class=HTMLResponse, summary="Dashboard page (vi/en)")
async def dashboard(lang: LangDep, page: DashboardDep) -> HTMLResponse:
    return HTMLResponse(
        page(lang), headers={"Vary": "Accept-Language", "Cache-Control": "no-cache"}
    )
