"""Notify's settings: one object, read from the environment (upper-case names) at startup."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field, SecretStr, field_validator

from services.notify.domain.destinations import networks
from shared.secrets import Secret
from shared.settings import StaffTokenSettings

DEV_WEBHOOK_SECRET = "dev-only-webhook-secret-change-me"
DEV_UNSUBSCRIBE_SECRET = "dev-only-unsubscribe-secret-change-me"


class NotifySettings(StaffTokenSettings):
    # notify opens the reporter contact that intake sealed: a production start needs PII_KEY.
    handles_pii: ClassVar[bool] = True

    service_name: str = "notify"
    http_port: int = Field(default=8003, ge=1, le=65535)
    # Nobody waits on this service's consumer: a report's events a moment apart share a batch.
    consumer_linger_ms: int = Field(default=500, ge=0, le=2000)
    # An empty fetch waits this long on the broker: it lingers that long anyway, and each
    # fetch costs the broker CPU (about a fifth of a core for the four services at 100 ms).
    kafka_fetch_max_wait_ms: int = Field(default=500, ge=1, le=10_000)

    ioc_agency_id: str = Field(default="ioc", description="Assignments to it are IOC triage")
    web_allowed_origins: str = Field(
        default="http://127.0.0.1:8001",
        description="CORS allow-list: origins of the pages that open the status stream",
    )
    public_base_url: str = Field(
        default="http://127.0.0.1:8003", description="Where residents reach notify (unsubscribe)"
    )
    report_url_template: str = Field(
        default="http://127.0.0.1:8001/api/v1/reports/{report_id}",
        description="Link to a report's public view in messages",
    )

    smtp_host: str | None = Field(default=None, description="Unset: the email channel is off")
    smtp_port: int = Field(default=25, ge=1, le=65535)
    smtp_from: str = "Field reports <no-reply@fieldreports.local>"
    smtp_starttls: bool = False
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_timeout_s: float = Field(default=10.0, gt=0)

    webhook_secret: str = Field(default=DEV_WEBHOOK_SECRET, description="Signs agency webhooks")
    webhook_timeout_s: float = Field(default=10.0, gt=0)
    webhook_allowed_networks: str | None = Field(
        default=None,
        description="Comma-separated networks (CIDR) agency webhooks may reach although they "
        "are not public (loopback, private, link-local). Unset: none in production, loopback "
        "elsewhere. Production sends to https URLs only.",
    )

    sms_gateway_url: str | None = Field(default=None, description="Unset: the SMS channel is off")
    sms_gateway_token: SecretStr | None = None
    sms_timeout_s: float = Field(default=10.0, gt=0)
    sms_max_chars: int = Field(
        default=480,
        ge=160,
        le=1600,
        description="Longest SMS text in characters; longer ones are cut at a word, the opt-out "
        "link kept",
    )

    unsubscribe_secret: str = DEV_UNSUBSCRIBE_SECRET

    catalog_backfill_hours: float = Field(
        default=24.0,
        ge=0,
        description="A new catalogue tells agencies of assignments they missed for lack of "
        "contacts this far back (0: never)",
    )

    delivery_max_attempts: int = Field(default=6, ge=1, le=50)
    delivery_backoff_base_s: float = Field(default=30.0, gt=0)
    delivery_backoff_max_s: float = Field(default=3600.0, gt=0)
    delivery_poll_interval_s: float = Field(
        default=30.0,
        gt=0,
        description="The worker's safety net: it is woken by new deliveries and sleeps until "
        "the next retry is due, but looks at least this often",
    )
    delivery_lease_s: float = Field(default=60.0, gt=0)
    delivery_batch_size: int = Field(
        default=100, ge=1, le=500, description="Deliveries claimed (and sent) per round"
    )
    delivery_concurrency_email: int = Field(
        default=8, ge=1, le=256, description="SMTP connections open at once (per process)"
    )
    delivery_concurrency_webhook: int = Field(
        default=16, ge=1, le=256, description="Webhook requests in flight at once (per process)"
    )
    delivery_concurrency_sms: int = Field(
        default=8, ge=1, le=256, description="SMS gateway requests in flight at once"
    )
    gauges_interval_s: float = Field(
        default=30.0, gt=0, description="How often the queue-depth gauges are recounted"
    )
    catalog_refresh_s: float = Field(
        default=60.0,
        gt=0,
        description="How long the catalogue held in memory is trusted before it is read again "
        "(another replica may have stored a newer one)",
    )

    sse_poll_interval_s: float = Field(default=1.0, gt=0)
    sse_keepalive_s: float = Field(default=15.0, gt=0)
    sse_max_streams: int = Field(
        default=1000, ge=1, description="Open status streams per process; more get 503"
    )
    sse_max_streams_per_client: int = Field(
        default=16,
        ge=1,
        description="Open status streams per client address and process; more get 429 "
        "(residents behind one carrier NAT share an address)",
    )
    sse_max_lifetime_s: float = Field(
        default=600.0, gt=0, description="A stream ends after this; the browser reconnects"
    )

    @field_validator("webhook_allowed_networks")
    @classmethod
    def _networks(cls, value: str | None) -> str | None:
        if value is not None:
            networks(value)  # a ValueError names the bad entry
        return value

    def secrets(self) -> dict[str, Secret]:
        return {
            **super().secrets(),
            "WEBHOOK_SECRET": Secret(self.webhook_secret, "secret", DEV_WEBHOOK_SECRET),
            "UNSUBSCRIBE_SECRET": Secret(self.unsubscribe_secret, "secret", DEV_UNSUBSCRIBE_SECRET),
        }
