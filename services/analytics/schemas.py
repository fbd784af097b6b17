"""Public response bodies of the statistics API (the JSON form; CSV has the same columns)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from services.analytics.domain.stats import Interval, SortColumn


class Public(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class SummaryOut(Public):
    total: int
    by_status: dict[str, int]
    by_category: dict[str, int]
    by_agency: dict[str, int] = Field(description="Reports by current agency")
    agency_names: dict[str, str]
    mean_time_to_assign_s: float | None
    mean_time_to_resolve_s: float | None
    resolved: int = Field(description="Resolved or closed")
    resolved_on_time_pct: float | None
    open: int
    overdue_now: int
    mean_rating: float | None
    ratings: int
    escalations: int
    reopened: int


class ScoreRowOut(Public):
    agency_id: str
    agency_name: str
    received: int
    resolved: int
    resolved_on_time_pct: float | None
    median_time_to_resolve_s: float | None
    p90_time_to_resolve_s: float | None
    backlog: int = Field(description="Open reports")
    overdue_now: int
    mean_rating: float | None


class ScoreboardOut(Public):
    sort: SortColumn
    order: Literal["asc", "desc"]
    items: list[ScoreRowOut]


class CategoryRowOut(Public):
    category: str
    category_name: str
    received: int
    resolved: int
    open: int
    overdue_now: int
    resolved_on_time_pct: float | None
    median_time_to_resolve_s: float | None
    mean_rating: float | None


class CategoriesOut(Public):
    items: list[CategoryRowOut]


class SeriesPointOut(Public):
    period: str = Field(description="The day, or the Monday of the week (YYYY-MM-DD)")
    created: int
    resolved: int


class TimeseriesOut(Public):
    interval: Interval
    items: list[SeriesPointOut]


class GridCellOut(Public):
    south: float
    west: float
    north: float
    east: float
    lat: float = Field(description="Centre of the cell")
    lon: float = Field(description="Centre of the cell")
    count: int


class GridOut(Public):
    cell_deg: float
    cells_total: int
    truncated: bool = Field(description="More cells have reports than were returned")
    cells: list[GridCellOut]


class CorrectionRowOut(Public):
    from_category: str = Field(description="The category the report was created as")
    from_category_name: str
    to_category: str | None = Field(description="Its current category")
    to_category_name: str | None
    agency_id: str | None = Field(description="Its current agency")
    agency_name: str | None
    chosen_by: str | None = Field(description="Who chose the first category: resident or model")
    count: int


class FiledRowOut(Public):
    category: str = Field(description="The category reports were created as")
    category_name: str
    filed: int
    corrected: int = Field(description="Of those, corrected to another category since")
    corrected_pct: float | None


class CorrectionsOut(Public):
    items: list[CorrectionRowOut]
    by_category: list[FiledRowOut]
