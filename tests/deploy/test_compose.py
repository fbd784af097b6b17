"""docker-compose.yml: valid Compose, and every service, port, variable and command exists in code."""

from __future__ import annotations

import base64
import json
import os
import re
import secrets
from typing import Any

import jsonschema
import pytest

from shared.kafka import all_topics
from tests.deploy.support import (
    DEPLOY,
    EXTRA_SERVICE_ENV,
    ROOT,
    SERVICES,
    load_yaml,
    settings_class,
    settings_env_names,
)

COMPOSE = load_yaml(ROOT / "docker-compose.yml")
APP_SERVICES = {name: COMPOSE["services"][name] for name in SERVICES}


def _interpolated(value: str, values: dict[str, str]) -> str:
    """Compose's `${VAR}`, `${VAR:-default}` and `${VAR:?error}` with the given values."""

    def sub(m: re.Match[str]) -> str:
        name, op, arg = m.group(1), m.group(2), m.group(3)
        if name in values:
            return values[name]
        assert op != ":?", f"{name} is required: {arg}"
        return arg or ""

    return re.sub(r"\$\{([A-Z0-9_]+)(?:(:-|:\?)([^}]*))?\}", sub, value)


def _strings(node: Any) -> list[str]:
    if isinstance(node, dict):
        return [s for v in node.values() for s in _strings(v)]
    if isinstance(node, list):
        return [s for v in node for s in _strings(v)]
    return [node] if isinstance(node, str) else []


def _required_vars() -> set[str]:
    """Variables the operator must set: `${VAR:?...}` and the secrets' environment sources."""
    found = {m for s in _strings(COMPOSE) for m in re.findall(r"\$\{([A-Z0-9_]+):\?", s)}
    return found | {s["environment"] for s in COMPOSE["secrets"].values()}


def _operator_values() -> dict[str, str]:
    values = {name: secrets.token_hex(20) for name in _required_vars()}
    values["PII_KEY"] = base64.b64encode(os.urandom(32)).decode()
    return values


def test_compose_file_validates_against_the_compose_spec_schema() -> None:
    schema = json.loads((ROOT / "tests/deploy/schemas/compose-spec.json").read_text())
    jsonschema.Draft202012Validator(schema).validate(COMPOSE)


def test_compose_runs_kafka_in_kraft_mode_and_mongo_as_a_replica_set() -> None:
    kafka, mongo = COMPOSE["services"]["kafka"], COMPOSE["services"]["mongo"]
    assert kafka["image"].startswith("apache/kafka:")
    assert "controller" in kafka["environment"]["KAFKA_PROCESS_ROLES"]
    assert "--replSet" in mongo["command"]
    assert "rs.initiate" in (DEPLOY / "mongo/replica-set.js").read_text()


@pytest.mark.parametrize("service", SERVICES)
def test_service_command_runs_an_existing_module(service: str) -> None:
    command = APP_SERVICES[service]["command"]
    assert command == ["python", "-m", f"services.{service}"]
    assert (ROOT / f"services/{service}/__main__.py").is_file()
    assert APP_SERVICES[service]["environment"]["SERVICE"] == service


@pytest.mark.parametrize("service", SERVICES)
def test_service_environment_names_are_settings_fields(service: str) -> None:
    names = set(APP_SERVICES[service]["environment"])
    unknown = names - settings_env_names(service) - EXTRA_SERVICE_ENV
    assert not unknown, f"{service}: not settings fields of {settings_class(service).__name__}"


@pytest.mark.parametrize(("service", "port"), SERVICES.items())
def test_service_port_is_its_default_http_port(service: str, port: int) -> None:
    spec = APP_SERVICES[service]
    assert settings_class(service).model_fields["http_port"].default == port
    assert spec["environment"]["HTTP_PORT"] == str(port)
    assert spec["ports"] == [f"{port}:{port}"]
    targets = load_yaml(DEPLOY / "prometheus/prometheus.yml")["scrape_configs"]
    assert {"job_name": service, "static_configs": [{"targets": [f"{service}:{port}"]}]} in targets


@pytest.mark.parametrize("service", SERVICES)
def test_service_settings_validate_in_production_from_the_compose_environment(
    service: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every secret production requires is provided (so a real start does not refuse)."""
    values = _operator_values()
    for key, value in APP_SERVICES[service]["environment"].items():
        monkeypatch.setenv(key, _interpolated(str(value), values))
    settings = settings_class(service)()
    assert settings.environment == "production"
    assert settings.kafka_acks == "all"
    assert settings.kafka_enable_idempotence is True
    assert settings.dev_defaults_in_use() == []


def test_every_secret_is_required_from_the_operator() -> None:
    required = _required_vars()
    assert {"PII_KEY", "JWT_SECRET", "MONGO_ROOT_PASSWORD", "GRAFANA_ADMIN_PASSWORD"} <= required
    example = (DEPLOY / "compose/env.example").read_text()
    assert required <= set(re.findall(r"^([A-Z0-9_]+)=", example, re.M))


@pytest.mark.parametrize("service", SERVICES)
def test_service_waits_for_its_infrastructure_and_has_a_readiness_healthcheck(
    service: str,
) -> None:
    spec = APP_SERVICES[service]
    assert spec["depends_on"] == {
        "kafka": {"condition": "service_healthy"},
        "kafka-init": {"condition": "service_completed_successfully"},
        "mongo-init": {"condition": "service_completed_successfully"},
    }
    assert "/health/ready" in " ".join(spec["healthcheck"]["test"])


def test_depends_on_names_existing_services_with_healthchecks_where_needed() -> None:
    services: dict[str, Any] = COMPOSE["services"]
    for name, spec in services.items():
        for dep, cond in (spec.get("depends_on") or {}).items():
            assert dep in services, f"{name} depends on unknown {dep}"
            if cond["condition"] == "service_healthy":
                assert "healthcheck" in services[dep], f"{dep} has no healthcheck"


def test_mounted_files_exist() -> None:
    for spec in COMPOSE["services"].values():
        for volume in spec.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("./"):
                assert (ROOT / source).exists(), source


def _script_topics(text: str) -> list[str]:
    block = re.search(r'REPORT_TOPICS="([^"]*)"', text)
    assert block
    report = block.group(1).split()
    compacted = [
        re.search(rf'{name}="([^"]+)"', text) for name in ("CATALOG_TOPIC", "ACCOUNT_TOPIC")
    ]
    assert all(compacted)
    return [*report, *(f"{t}.dlq" for t in report), *(m.group(1) for m in compacted if m)]


TOPIC_SCRIPT = DEPLOY / "k8s/base/files/create-topics.sh"


def test_topic_script_creates_exactly_the_topics_of_shared_kafka() -> None:
    script = TOPIC_SCRIPT.read_text()
    assert sorted(_script_topics(script)) == sorted(all_topics())
    assert "cleanup.policy=compact" in script


def test_compose_mounts_the_kubernetes_topic_script() -> None:
    mounts = COMPOSE["services"]["kafka-init"]["volumes"]
    assert f"./{TOPIC_SCRIPT.relative_to(DEPLOY.parent)}:/deploy/create-topics.sh:ro" in mounts


def test_mongo_init_creates_one_user_per_service_on_its_own_database() -> None:
    script = (DEPLOY / "mongo/create-users.js").read_text()
    assert 'const services = ["intake", "routing", "notify", "analytics"];' in script
    assert 'role: "readWrite", db: dbName' in script
    for service in SERVICES:
        uri = APP_SERVICES[service]["environment"]["MONGODB_URI"]
        assert f"mongodb://{service}:" in uri
        assert f"/fieldreports_{service}?" in uri
        assert f"authSource=fieldreports_{service}" in uri
        assert settings_class(service)(service_name=service).database_name == (
            f"fieldreports_{service}"
        )
