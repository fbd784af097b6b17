"""The settings base every service extends: one object, read from the environment, validated at startup."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.secrets import Secret

# Development defaults. A production start refuses every one of them.
DEV_PII_KEY = "ZGV2LW9ubHktcGlpLWtleS0zMi1ieXRlcy1sb25nISE="  # base64 of a 32-byte dev key
DEV_JWT_SECRET = "dev-only-jwt-secret-change-me-0123456789abcdef"


class ServiceSettings(BaseSettings):
    """Connection, HTTP and reliability settings shared by the four services."""

    model_config = SettingsConfigDict(env_file=None, extra="ignore", frozen=True)

    # Only intake (seals) and notify (opens) hold the PII key; the others never need one.
    handles_pii: ClassVar[bool] = False

    service_name: str = Field(
        description="Name used as CloudEvents `source`, group id and metric label"
    )
    environment: Literal["development", "test", "production"] = "development"
    http_host: str = "127.0.0.1"
    http_port: int = Field(default=8000, ge=1, le=65535)
    log_level: str = "INFO"
    # Bodies over this are refused with 413 while they stream; upload routes set their own cap.
    http_body_max_bytes: int = Field(default=64 * 1024, ge=1024)
    trusted_proxies: str = Field(
        default="",
        description="Comma-separated addresses or networks of the reverse proxies whose "
        "X-Forwarded-For is believed (the ingress); none by default",
    )

    kafka_bootstrap_servers: str = "127.0.0.1:9092"
    # The embedded broker supports neither the idempotent producer nor transactions:
    # on real Kafka set KAFKA_ACKS=all and KAFKA_ENABLE_IDEMPOTENCE=true.
    kafka_acks: Literal["0", "1", "all"] = "1"
    kafka_enable_idempotence: bool = False
    kafka_topic_prefix: str = Field(
        default="", description="Prepended to every topic name (isolates tenants and test runs)"
    )
    kafka_group_id: str | None = Field(
        default=None, description="Consumer group; `<topic prefix><service name>` if unset"
    )

    # How fast a group notices a crashed replica and hands its partitions to the others.
    kafka_session_timeout_ms: int = Field(default=10_000, ge=1000)
    kafka_heartbeat_interval_ms: int = Field(default=3_000, ge=100)
    # Also the group's rebalance timeout: with aiokafka's 300 s, a restarted replica of a crashed
    # one waited about a minute on the embedded broker before consuming again; 30 s is ample
    # for handlers that take milliseconds (tests/faults/test_service_crash.py measures it).
    kafka_max_poll_interval_ms: int = Field(default=30_000, ge=1000)
    # How long the broker may hold a fetch that found nothing. Real Kafka answers as soon as a
    # record arrives; the embedded broker answers only at this deadline's next check (with
    # aiokafka's 500 ms, a hop from one service to the next took 120 ms at the median, 240 ms
    # at worst; with 100 ms, 12 and 42 ms). The cost is idle fetches: 10 a second per consumer.
    kafka_fetch_max_wait_ms: int = Field(default=100, ge=1, le=10_000)

    mongodb_uri: str = "mongodb://127.0.0.1:27017/?directConnection=true"
    mongodb_db: str | None = Field(
        default=None, description="Database name; `fieldreports_<service>`"
    )
    mongodb_timeout_ms: int = Field(default=5000, ge=100)

    pii_key: str = Field(
        default=DEV_PII_KEY, description="base64 AES-256 key shared by intake and notify only"
    )

    # A safety net only: the relay is woken after every commit that wrote to the outbox.
    outbox_poll_interval_s: float = Field(default=30.0, gt=0)
    outbox_batch_size: int = Field(default=100, ge=1, le=1000)
    # How often what is kept only for a while (inbox, sent outbox, ...) is swept (`shared.retention`).
    retention_interval_s: float = Field(default=300.0, gt=0)
    consumer_max_attempts: int = Field(default=3, ge=1, le=20)
    consumer_retry_backoff_s: float = Field(default=0.2, ge=0)
    # A consumer applies up to this many polled events in one unit of work (one transaction).
    consumer_batch_max: int = Field(default=100, ge=1, le=1000)
    consumer_batch_wait_ms: int = Field(default=100, ge=1, le=5000)
    # After a poll that did not fill a batch, collect what else comes for this long (or until the
    # batch is full) before applying it: fewer, fuller units of work for that much latency (0:
    # off; notify and analytics 500, off the path to the resident's `assigned`).
    consumer_linger_ms: int = Field(default=0, ge=0, le=2000)

    @property
    def database_name(self) -> str:
        return self.mongodb_db or f"fieldreports_{self.service_name}"

    @property
    def group_id(self) -> str:
        # The prefix isolates tenants and test runs: their groups must not rebalance each other.
        return self.kafka_group_id or f"{self.kafka_topic_prefix}{self.service_name}"

    def topic(self, name: str) -> str:
        return f"{self.kafka_topic_prefix}{name}"

    def secrets(self) -> dict[str, Secret]:
        """The service's secrets by variable name, with their kind; services extend this."""
        return {"PII_KEY": Secret(self.pii_key, "key", DEV_PII_KEY)} if self.handles_pii else {}

    def dev_defaults_in_use(self) -> list[str]:
        """Names of the secrets that are weak: a development default, a placeholder, too short
        or too regular (`shared/secrets.py`)."""
        return [name for name, secret in self.secrets().items() if secret.problem()]

    @model_validator(mode="after")
    def _refuse_weak_secrets_in_production(self) -> ServiceSettings:
        if self.environment == "production":
            problems = [
                f"{name} {problem}"
                for name, secret in self.secrets().items()
                if (problem := secret.problem())
            ]
            if problems:
                raise ValueError("production start refused: " + "; ".join(problems))
        return self


class StaffTokenSettings(ServiceSettings):
    """A service that verifies routing's staff tokens (routing issues them; intake and notify
    check them): the shared key, the lifetime, and how soon a revoked token is refused."""

    jwt_secret: str = Field(default=DEV_JWT_SECRET, description="HS256 key of routing's tokens")
    jwt_ttl_s: int = Field(
        default=8 * 3600,
        ge=60,
        description="Lifetime of a staff token (routing's value, or more elsewhere): how long a "
        "revoked token version is kept",
    )
    token_revocation_refresh_s: float = Field(
        default=5.0,
        gt=0,
        le=60,
        description="A revoked account's tokens are refused within this time after its change "
        "is known here (one indexed query at most this often, only while tokens are checked)",
    )

    def secrets(self) -> dict[str, Secret]:
        return {
            **super().secrets(),
            "JWT_SECRET": Secret(self.jwt_secret, "secret", DEV_JWT_SECRET),
        }
