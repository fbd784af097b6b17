"""Analytics settings: one object, read from the environment (upper-case names) at startup."""

from __future__ import annotations

from pydantic import Field

from shared.settings import ServiceSettings


class AnalyticsSettings(ServiceSettings):
    # The heat map page (services/analytics/web): the area boundaries routing publishes
    areas_url: str = "http://127.0.0.1:8002/console/areas.json"
    map_tile_url: str = Field(
        default="", description="Leaflet tile template; empty: area boundaries only"
    )
    service_name: str = "analytics"
    http_port: int = Field(default=8004, ge=1, le=65535)
    # Nobody waits on this service's consumer: a report's events a moment apart share a batch.
    consumer_linger_ms: int = Field(default=500, ge=0, le=2000)
    # An empty fetch waits this long on the broker: it lingers that long anyway, and each
    # fetch costs the broker CPU (about a fifth of a core for the four services at 100 ms).
    kafka_fetch_max_wait_ms: int = Field(default=500, ge=1, le=10_000)

    timezone: str = Field(
        default="Asia/Ho_Chi_Minh", description="Zone of the city: days and weeks are cut in it"
    )
    gauges_interval_s: float = Field(
        default=30.0,
        gt=0,
        description="The business gauges are refreshed at most this often, when a fact changed "
        "(else every ten periods: what is overdue moves with time)",
    )
    dashboard_refresh_s: int = Field(
        default=60, ge=5, le=3600, description="The dashboard page reloads its data this often"
    )
    grid_default_cell_deg: float = Field(default=0.01, gt=0)
    grid_min_cell_deg: float = Field(
        default=0.001, gt=0, description="Smallest heat-grid cell (about 110 m)"
    )
    grid_max_cells: int = Field(default=2000, ge=1, le=100_000)
