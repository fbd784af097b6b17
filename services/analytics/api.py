"""Thin routers: the public statistics API (JSON or CSV) and the dashboard page."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response

from services.analytics.domain import stats
from services.analytics.domain.catalog import LANGUAGES
from services.analytics.domain.stats import SCOREBOARD_COLUMNS, Filters, SortColumn
from services.analytics.projection import Statistics
from services.analytics.settings import AnalyticsSettings
from shared.http import ApiError

STATIC = Path(__file__).parent / "static"

Format = Literal["json", "csv"]

CATEGORY_COLUMNS = (
    "category",
    "category_name",
    "received",
    "resolved",
    "open",
    "overdue_now",
    "resolved_on_time_pct",
    "median_time_to_resolve_s",
    "mean_rating",
)
SERIES_COLUMNS = ("period", "created", "resolved")
GRID_COLUMNS = ("lat", "lon", "south", "west", "north", "east", "count")


def _split(value: str | None) -> tuple[str, ...]:
    return tuple(v.strip() for v in (value or "").split(",") if v.strip())


def filters(
    date_from: Annotated[
        date | None, Query(alias="from", description="First local day (YYYY-MM-DD), inclusive")
    ] = None,
    date_to: Annotated[
        date | None, Query(alias="to", description="Last local day (YYYY-MM-DD), inclusive")
    ] = None,
    category: Annotated[str | None, Query(description="Category code(s), comma-separated")] = None,
    agency: Annotated[str | None, Query(description="Agency id(s), comma-separated")] = None,
    area: Annotated[str | None, Query(description="Area id(s), comma-separated")] = None,
) -> Filters:
    if date_from and date_to and date_from > date_to:
        raise ApiError(422, "validation_error", "`from` is after `to`")
    return Filters(date_from, date_to, _split(category), _split(agency), _split(area))


def language(
    request: Request,
    lang: Annotated[Literal["vi", "en"] | None, Query(description="Names in this language")] = None,
) -> str:
    """`?lang=` first, then the first supported language of `Accept-Language`, else Vietnamese."""
    if lang:
        return lang
    for part in request.headers.get("accept-language", "").split(","):
        code = part.split(";")[0].strip().lower()[:2]
        if code in LANGUAGES:
            return code
    return "vi"


FiltersDep = Annotated[Filters, Depends(filters)]
LangDep = Annotated[str, Depends(language)]
FormatQuery = Annotated[Format, Query(description="json (default) or csv")]


def _csv(rows: list[dict[str, Any]], columns: tuple[str, ...], name: str) -> Response:
    return Response(
        stats.to_csv(rows, columns),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
    )


def stats_router(statistics: Statistics, settings: AnalyticsSettings) -> APIRouter:
    router = APIRouter(prefix="/api/v1/stats", tags=["statistics"])

    async def summary(f: FiltersDep, lang: LangDep, format: FormatQuery = "json") -> Any:
        body = await statistics.summary(f, lang)
        if format == "csv":
            rows = [{"metric": k, "value": v} for k, v in body.items() if not isinstance(v, dict)]
            for group in ("by_status", "by_category", "by_agency"):
                rows += [{"metric": f"{group}.{k}", "value": v} for k, v in body[group].items()]
            return _csv(rows, ("metric", "value"), "summary")
        return body

    async def scoreboard(
        f: FiltersDep,
        lang: LangDep,
        sort: Annotated[
            SortColumn, Query(description="Column to rank by")
        ] = "resolved_on_time_pct",
        order: Annotated[Literal["asc", "desc"], Query()] = "desc",
        format: FormatQuery = "json",
    ) -> Any:
        rows = await statistics.scoreboard(f, lang, sort, order == "desc")
        if format == "csv":
            return _csv(rows, SCOREBOARD_COLUMNS, "scoreboard")
        return {"sort": sort, "order": order, "items": rows}

    async def categories(f: FiltersDep, lang: LangDep, format: FormatQuery = "json") -> Any:
        rows = await statistics.categories(f, lang)
        if format == "csv":
            return _csv(rows, CATEGORY_COLUMNS, "categories")
        return {"items": rows}

    async def timeseries(
        f: FiltersDep,
        interval: Annotated[Literal["day", "week"], Query()] = "day",
        format: FormatQuery = "json",
    ) -> Any:
        points = await statistics.timeseries(f, interval)
        if format == "csv":
            return _csv(points, SERIES_COLUMNS, f"timeseries-{interval}")
        return {"interval": interval, "items": points}

    async def grid(
        f: FiltersDep,
        cell: Annotated[
            float | None,
            Query(gt=0, description="Cell size in degrees; clamped to [GRID_MIN_CELL_DEG, 1]"),
        ] = None,
        limit: Annotated[int | None, Query(ge=1, description="Most cells returned")] = None,
        format: FormatQuery = "json",
    ) -> Any:
        size = min(max(cell or settings.grid_default_cell_deg, settings.grid_min_cell_deg), 1.0)
        most = min(limit or settings.grid_max_cells, settings.grid_max_cells)
        body = await statistics.grid(f, size, most)
        if format == "csv":
            return _csv(body["cells"], GRID_COLUMNS, "grid")
        return body

    tables: dict[str, tuple[Callable[..., Any], str]] = {
        "summary": (summary, "Headline numbers: counts by status, category, agency; mean times"),
        "scoreboard": (scoreboard, "Agency scoreboard, sortable by any column"),
        "categories": (categories, "Breakdown by category"),
        "timeseries": (timeseries, "Reports created and resolved per day or week"),
        "grid": (grid, "Report counts per geographic cell, for a heat map"),
    }
    for name, (endpoint, summary_text) in tables.items():
        router.add_api_route(f"/{name}", endpoint, methods=["GET"], summary=summary_text)
        router.add_api_route(
            f"/{name}.csv",
            _as_csv(endpoint),
            methods=["GET"],
            summary=f"{summary_text} (CSV)",
            response_class=Response,
        )
    return router


def _as_csv(endpoint: Any) -> Any:
    """The same endpoint with `format` fixed to CSV (for `/<table>.csv`)."""
    signature = inspect.signature(endpoint)
    params = [p for p in signature.parameters.values() if p.name != "format"]

    async def as_csv(**kwargs: Any) -> Any:
        return await endpoint(**kwargs, format="csv")

    as_csv.__signature__ = signature.replace(parameters=params)  # type: ignore[attr-defined]
    return as_csv


def dashboard_router(settings: AnalyticsSettings) -> APIRouter:
    router = APIRouter(tags=["dashboard"])
    page = (STATIC / "index.html").read_text(encoding="utf-8")

    @router.get("/", response_class=HTMLResponse, summary="Dashboard page (vi/en)")
    async def dashboard(lang: LangDep) -> HTMLResponse:
        html = page.replace("{{lang}}", lang).replace(
            "{{refresh_s}}", str(settings.dashboard_refresh_s)
        )
        return HTMLResponse(html, headers={"Vary": "Accept-Language", "Cache-Control": "no-cache"})

    return router
