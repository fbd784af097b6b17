from typing import ClassVar

import pytest
from pydantic import ValidationError

from shared.settings import ServiceSettings


class PiiHolder(ServiceSettings):
    handles_pii: ClassVar[bool] = True


def test_production_start_refuses_development_pii_key_where_pii_is_handled() -> None:
    with pytest.raises(ValidationError, match="PII_KEY"):
        PiiHolder(service_name="x", environment="production")


def test_a_service_without_pii_needs_no_pii_key() -> None:
    assert ServiceSettings(service_name="x", environment="production").dev_defaults_in_use() == []


def test_production_start_accepts_real_secrets() -> None:
    key = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="
    settings = PiiHolder(service_name="x", environment="production", pii_key=key)
    assert settings.environment == "production"


def test_settings_read_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", "kafka:9092")
    monkeypatch.setenv("KAFKA_TOPIC_PREFIX", "city1.")
    settings = ServiceSettings(service_name="x")
    assert settings.kafka_bootstrap_servers == "kafka:9092"
    assert settings.topic("report.created") == "city1.report.created"


def test_database_name_defaults_per_service() -> None:
    assert ServiceSettings(service_name="routing").database_name == "fieldreports_routing"


def test_invalid_port_is_refused_at_startup() -> None:
    with pytest.raises(ValidationError):
        ServiceSettings(service_name="x", http_port=70000)


def test_consumer_group_is_isolated_by_topic_prefix() -> None:
    assert ServiceSettings(service_name="routing", kafka_topic_prefix="city1.").group_id == (
        "city1.routing"
    )
