"""Prometheus config and alert rules: promtool (Debian's prometheus package) and metric names."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.deploy.support import (
    DEPLOY,
    code_metric_names,
    load_yaml,
    prometheus_bin,
    promql_metric_names,
)

ALERTS = DEPLOY / "prometheus/alerts.yml"
REQUIRED_ALERTS = {
    "FieldreportsServiceDown",
    "FieldreportsConsumerLagGrowing",
    "FieldreportsDeadLetters",
    "FieldreportsOutboxBacklogStale",
    "FieldreportsAssignmentsOverdue",
    "FieldreportsHttp5xxRate",
}


@pytest.fixture(scope="module")
def promtool() -> str:
    return prometheus_bin("promtool")


def _promtool(promtool: str, *args: str | Path) -> str:
    done = subprocess.run([promtool, *map(str, args)], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_promtool_check_rules_passes(promtool: str) -> None:
    assert "SUCCESS: 8 rules found" in _promtool(promtool, "check", "rules", ALERTS)


@pytest.mark.parametrize("config", ["prometheus.yml", "prometheus-local.yml"])
def test_promtool_check_config_passes(promtool: str, config: str) -> None:
    assert "SUCCESS" in _promtool(promtool, "check", "config", DEPLOY / "prometheus" / config)


def test_local_config_scrapes_the_same_jobs_on_the_make_run_ports() -> None:
    def jobs(name: str) -> dict[str, str]:
        scrape = load_yaml(DEPLOY / "prometheus" / name)["scrape_configs"]
        return {j["job_name"]: j["static_configs"][0]["targets"][0] for j in scrape}

    compose, local = jobs("prometheus.yml"), jobs("prometheus-local.yml")
    assert compose.keys() == local.keys()
    for job, target in compose.items():
        assert local[job] == "127.0.0.1:" + target.rsplit(":", 1)[1]


def test_alerts_fire_on_synthetic_series(promtool: str) -> None:
    _promtool(promtool, "test", "rules", Path(__file__).parent / "rules_test.yml")


def test_the_required_alerts_exist() -> None:
    rules = [r for g in load_yaml(ALERTS)["groups"] for r in g["rules"]]
    assert {r["alert"] for r in rules} >= REQUIRED_ALERTS


def test_alert_expressions_reference_metrics_that_exist_in_the_code() -> None:
    known = code_metric_names()
    for group in load_yaml(ALERTS)["groups"]:
        for rule in group["rules"]:
            missing = promql_metric_names(rule["expr"]) - known
            assert not missing, f"{rule['alert']}: {missing}"


def test_promql_parser_finds_metric_names() -> None:
    expr = 'histogram_quantile(0.95, sum by (le) (rate(x_bucket{job="a", s=~"5.."}[5m]))) / y'
    assert promql_metric_names(expr) == {"x_bucket", "y"}
