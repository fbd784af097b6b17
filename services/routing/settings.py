"""Routing's settings: read from the environment (upper-case names), validated at startup."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr

from shared.secrets import Secret
from shared.settings import StaffTokenSettings

DEMO_JURISDICTION = Path(__file__).parent / "data" / "demo_jurisdiction.json"


class RoutingSettings(StaffTokenSettings):
    service_name: str = "routing"
    http_port: int = Field(default=8002, ge=1, le=65535)

    login_free_failures_per_account: int = Field(
        default=5, ge=1, description="Failed logins of one username before backoff starts"
    )
    login_free_failures_per_client: int = Field(
        default=20, ge=1, description="Failed logins from one client address before backoff"
    )
    login_backoff_base_s: float = Field(
        default=1.0, gt=0, description="The first lock after the free failures (then doubled)"
    )
    login_backoff_max_s: float = Field(
        default=300.0, ge=1, description="Longest lock after failures (it doubles from 1 s)"
    )
    login_failure_window_s: float = Field(
        default=900.0, ge=60, description="Failures are forgotten this long after the last one"
    )
    login_max_concurrent_checks: int = Field(
        default=2, ge=1, description="Password checks (argon2) run at once per process"
    )
    jurisdiction_file: Path = Field(
        default=DEMO_JURISDICTION,
        description="Seed document; applied at start when the database has none or an older version",
    )
    deadline_check_interval_s: float = Field(default=30.0, gt=0)
    # The open-assignments gauge reads every open assignment: at most this often (the overdue
    # gauge and escalations, every deadline check).
    open_gauge_interval_s: float = Field(default=300.0, gt=0)
    default_deadline_hours: int = Field(
        default=72, ge=1, description="Deadline of a category unknown to the jurisdiction"
    )
    photo_max_bytes: int = Field(default=5 * 1024 * 1024, ge=1024)
    photos_max_count: int = Field(default=5, ge=0, le=20)
    photo_max_pixels: int = Field(
        default=40_000_000, ge=1, description="Larger images are refused as decompression bombs"
    )
    photo_pending_grace_s: float = Field(
        default=900.0,
        ge=60,
        description="A photo not confirmed by its resolve's transaction this long after upload "
        "is an orphan and the sweep loop deletes it",
    )
    photo_sweep_interval_s: float = Field(default=300.0, gt=0)
    # The operations console (services/routing/web)
    console_intake_url: str = Field(
        default="http://127.0.0.1:8001",
        description="intake's base URL for the console's public report view (`/` under one host)",
    )
    map_tile_url: str = Field(
        default="", description="Leaflet tile template; empty: area boundaries only"
    )
    map_tile_attribution: str = ""
    public_base_url: str = Field(
        default="http://127.0.0.1:8002", description="Base of the photo URLs put in events"
    )
    bootstrap_admin_username: str = Field(default="admin", min_length=1, max_length=64)
    bootstrap_admin_password: SecretStr | None = Field(
        default=None,
        description="When set, this admin account (scopes admin + operator) is created or its "
        "password reset at start: how the first real login of a deployment is made",
    )

    @property
    def demo_logins(self) -> bool:
        """Demo staff accounts (password `demo`) exist only outside production."""
        return self.environment != "production"

    def secrets(self) -> dict[str, Secret]:
        admin = self.bootstrap_admin_password
        return {
            **super().secrets(),
            # Optional (an admin may already exist), but never weak when given.
            "BOOTSTRAP_ADMIN_PASSWORD": Secret(
                admin.get_secret_value() if admin else None, "password", required=False
            ),
        }
