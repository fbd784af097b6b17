"""The public statistics API: every table as JSON (`/<table>`, `?format=csv`) or CSV (`/<table>.csv`)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from fastapi.responses import Response

from services.analytics.api.deps import FiltersDep, LangDep, StatisticsDep
from services.analytics.api.formats import FormatDep, metric_rows, table
from services.analytics.domain.stats import SCOREBOARD_COLUMNS, Interval, SortColumn
from services.analytics.schemas import (
    CategoriesOut,
    CorrectionsOut,
    GridOut,
    ScoreboardOut,
    SummaryOut,
    TimeseriesOut,
)

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
CORRECTION_COLUMNS = (
    "from_category",
    "from_category_name",
    "to_category",
    "to_category_name",
    "agency_id",
    "agency_name",
    "chosen_by",
    "count",
)
GRID_COLUMNS = ("lat", "lon", "south", "west", "north", "east", "count")

stats_router = APIRouter(prefix="/api/v1/stats", tags=["statistics"])
CSV: dict[str, Any] = {"response_class": Response, "response_model": None}


def _csv(summary: str) -> dict[str, Any]:
    return {**CSV, "summary": f"{summary} (CSV)"}


SUMMARY = "Headline numbers: counts by status, category, agency; mean times"


@stats_router.get("/summary", summary=SUMMARY, response_model=SummaryOut)
@stats_router.get("/summary.csv", **_csv(SUMMARY))
async def summary(f: FiltersDep, lang: LangDep, st: StatisticsDep, fmt: FormatDep) -> Any:
    body = SummaryOut.model_validate(await st.summary(f, lang))
    rows = metric_rows(body, ("by_status", "by_category", "by_agency"))
    return table(fmt, body, rows, ("metric", "value"), "summary")


SCOREBOARD = "Agency scoreboard, sortable by any column"


@stats_router.get("/scoreboard", summary=SCOREBOARD, response_model=ScoreboardOut)
@stats_router.get("/scoreboard.csv", **_csv(SCOREBOARD))
async def scoreboard(
    f: FiltersDep,
    lang: LangDep,
    st: StatisticsDep,
    fmt: FormatDep,
    sort: Annotated[SortColumn, Query(description="Column to rank by")] = "resolved_on_time_pct",
    order: Annotated[Literal["asc", "desc"], Query()] = "desc",
) -> Any:
    rows = await st.scoreboard(f, lang, sort, order == "desc")
    body = ScoreboardOut.model_validate({"sort": sort, "order": order, "items": rows})
    return table(fmt, body, rows, SCOREBOARD_COLUMNS, "scoreboard")


CATEGORIES = "Breakdown by category"


@stats_router.get("/categories", summary=CATEGORIES, response_model=CategoriesOut)
@stats_router.get("/categories.csv", **_csv(CATEGORIES))
async def categories(f: FiltersDep, lang: LangDep, st: StatisticsDep, fmt: FormatDep) -> Any:
    rows = await st.categories(f, lang)
    body = CategoriesOut.model_validate({"items": rows})
    return table(fmt, body, rows, CATEGORY_COLUMNS, "categories")


CORRECTIONS = "Category corrections: from the category filed to the corrected one, per agency"


@stats_router.get("/corrections", summary=CORRECTIONS, response_model=CorrectionsOut)
@stats_router.get("/corrections.csv", **_csv(CORRECTIONS))
async def corrections(f: FiltersDep, lang: LangDep, st: StatisticsDep, fmt: FormatDep) -> Any:
    result = await st.corrections(f, lang)
    body = CorrectionsOut.model_validate(result)
    return table(fmt, body, result.items, CORRECTION_COLUMNS, "corrections")


TIMESERIES = "Reports created and resolved per day or week"


@stats_router.get("/timeseries", summary=TIMESERIES, response_model=TimeseriesOut)
@stats_router.get("/timeseries.csv", **_csv(TIMESERIES))
async def timeseries(
    f: FiltersDep,
    st: StatisticsDep,
    fmt: FormatDep,
    interval: Annotated[Interval, Query()] = "day",
) -> Any:
    points = await st.timeseries(f, interval)
    body = TimeseriesOut.model_validate({"interval": interval, "items": points})
    return table(fmt, body, points, SERIES_COLUMNS, f"timeseries-{interval}")


GRID = "Report counts per geographic cell, for a heat map"


@stats_router.get("/grid", summary=GRID, response_model=GridOut)
@stats_router.get("/grid.csv", **_csv(GRID))
async def grid(
    f: FiltersDep,
    st: StatisticsDep,
    fmt: FormatDep,
    cell: Annotated[
        float | None,
        Query(gt=0, description="Cell size in degrees; clamped to [GRID_MIN_CELL_DEG, 1]"),
    ] = None,
    limit: Annotated[int | None, Query(ge=1, description="Most cells returned")] = None,
) -> Any:
    result = await st.grid(f, cell, limit)
    return table(fmt, GridOut.model_validate(result), result.cells, GRID_COLUMNS, "grid")
