"""Intake settings: read from the environment (upper-case names), validated at startup."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field, field_validator, model_validator

from services.intake.domain.duetime import DEFAULT_CITY_ZONE, city_zone
from shared.secrets import Secret
from shared.settings import StaffTokenSettings

DEV_OPEN311_KEY = "dev-open311-key"


class IntakeSettings(StaffTokenSettings):
    handles_pii: ClassVar[bool] = True
    service_name: str = "intake"
    http_port: int = Field(default=8001, ge=1, le=65535)

    public_base_url: str = Field(
        default="http://127.0.0.1:8001", description="Base of absolute photo URLs in events"
    )
    # Photos
    max_photos: int = Field(default=5, ge=0, le=20)
    photo_max_bytes: int = Field(default=8 * 1024 * 1024, ge=1024)
    photo_max_pixels: int = Field(
        default=40_000_000, ge=10_000, description="Decompression-bomb limit (width x height)"
    )
    thumb_px: int = Field(default=320, ge=32, le=2048)
    photo_pending_grace_s: float = Field(
        default=900.0,
        ge=60,
        description="A photo not confirmed by its report's transaction this long after upload "
        "is an orphan and the housekeeping loop deletes it",
    )
    # Idempotency keys live this long (TTL index)
    idempotency_ttl_s: int = Field(default=24 * 3600, ge=60)
    # Duplicates and nearby
    duplicate_radius_m: float = Field(default=150.0, gt=0)
    nearby_max_radius_m: float = Field(default=5000.0, gt=0)
    # Rate limit for creating reports, per client IP, per replica (token bucket)
    rate_limit_create_burst: int = Field(default=10, ge=0, description="0 disables the limit")
    rate_limit_create_per_minute: float = Field(default=20.0, gt=0)
    # The other per-client limits (same rules; the ingress holds them across replicas): reads
    # (feed, nearby, view, timeline, photos, categories, Open311 GETs), actions (rating, reopen,
    # support), resident tokens issued, triage suggestions
    rate_limit_read_burst: int = Field(default=200, ge=0, description="0 disables the limit")
    rate_limit_read_per_minute: float = Field(default=600.0, gt=0)
    rate_limit_act_burst: int = Field(default=20, ge=0, description="0 disables the limit")
    rate_limit_act_per_minute: float = Field(default=30.0, gt=0)
    rate_limit_resident_token_burst: int = Field(default=5, ge=0, description="0 disables")
    rate_limit_resident_token_per_minute: float = Field(default=0.2, gt=0)
    rate_limit_suggest_burst: int = Field(default=30, ge=0, description="0 disables the limit")
    rate_limit_suggest_per_minute: float = Field(default=60.0, gt=0)
    resident_token_max_age_days: float = Field(
        default=180.0, gt=0, description="How long an anonymous resident token (+1) is valid"
    )
    # Reconciliation and auto-close
    reconcile_after_s: float = Field(default=300.0, gt=0)
    reconcile_interval_s: float = Field(default=60.0, gt=0)
    autoclose_after_days: float = Field(default=7.0, gt=0)
    triage_accept_confidence: float = Field(
        default=0.6, gt=0, le=1, description="A report without a category needs this confidence"
    )
    triage_dispute_max: float = Field(
        default=0.05, ge=0, lt=1, description="Disputed: the resident's category below this ..."
    )
    triage_dispute_min: float = Field(
        default=0.7, gt=0, le=1, description="... while the model's top category is at least this"
    )
    triage_refresh_s: float = Field(
        default=60.0, gt=0, description="How often a replica looks for a newer promoted model"
    )
    triage_train_timeout_s: float = Field(default=300.0, gt=0)
    city_time_zone: str = Field(
        default=DEFAULT_CITY_ZONE, description="IANA zone of the public view's due time text"
    )
    # The resident web app (services/intake/web): where the browser finds the other services
    web_notify_url: str = Field(
        default="http://127.0.0.1:8003",
        description="notify's base URL as the browser sees it (live status stream); "
        "behind the ingress `/notify`",
    )
    web_routing_url: str = "http://127.0.0.1:8002"
    web_analytics_url: str = "http://127.0.0.1:8004"
    map_tile_url: str = Field(
        default="", description="Tile URL template ({s},{z},{x},{y}); empty: area boundaries only"
    )
    map_tile_attribution: str = ""
    web_allowed_origins: str = Field(
        default="http://127.0.0.1:8002,http://127.0.0.1:8003,http://127.0.0.1:8004",
        description="CORS allow-list (comma-separated origins of the other services' pages)",
    )
    # Open311
    open311_api_keys: str = Field(
        default=DEV_OPEN311_KEY, description="Comma-separated keys accepted on Open311 POST"
    )
    open311_max_page_size: int = Field(default=200, ge=1, le=1000)
    open311_max_updates: int = Field(
        default=1000, ge=1, le=10000, description="Most updates in one servicerequestupdates answer"
    )

    @model_validator(mode="after")
    def _triage_thresholds(self) -> IntakeSettings:
        if self.triage_dispute_max >= self.triage_dispute_min:
            raise ValueError("TRIAGE_DISPUTE_MAX must be below TRIAGE_DISPUTE_MIN")
        return self

    @field_validator("city_time_zone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        city_zone(value)
        return value

    @property
    def open311_keys(self) -> frozenset[str]:
        return frozenset(k.strip() for k in self.open311_api_keys.split(",") if k.strip())

    def secrets(self) -> dict[str, Secret]:
        keys = ",".join(sorted(self.open311_keys))
        return {
            **super().secrets(),
            "OPEN311_API_KEYS": Secret(keys, "api_keys", DEV_OPEN311_KEY),
        }
