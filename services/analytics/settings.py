"""Analytics settings: one object, read from the environment (upper-case names) at startup."""

from __future__ import annotations

from pydantic import Field

from shared.settings import ServiceSettings


class AnalyticsSettings(ServiceSettings):
    service_name: str = "analytics"
    http_port: int = Field(default=8004, ge=1, le=65535)

    timezone: str = Field(
        default="Asia/Ho_Chi_Minh", description="Zone of the city: days and weeks are cut in it"
    )
    projector_interval_s: float = Field(
        default=0.25, gt=0, description="How often pending reports are re-projected into facts"
    )
    projector_batch_size: int = Field(default=200, ge=1, le=5000)
    gauges_interval_s: float = Field(
        default=15.0, gt=0, description="Refresh period of the business gauges"
    )
    dashboard_refresh_s: int = Field(
        default=60, ge=5, le=3600, description="The dashboard page reloads its data this often"
    )
    grid_default_cell_deg: float = Field(default=0.01, gt=0)
    grid_min_cell_deg: float = Field(
        default=0.001, gt=0, description="Smallest heat-grid cell (about 110 m)"
    )
    grid_max_cells: int = Field(default=2000, ge=1, le=100_000)
