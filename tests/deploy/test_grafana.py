"""Grafana: provisioned datasource and dashboards; every panel's PromQL names real metrics."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.deploy.support import DEPLOY, SERVICES, code_metric_names, load_yaml, promql_metric_names

DASHBOARDS = sorted((DEPLOY / "grafana/dashboards").glob("*.json"))


def _panels(dashboard: dict[str, Any]) -> list[dict[str, Any]]:
    panels = []
    for p in dashboard["panels"]:
        panels.append(p)
        panels.extend(p.get("panels", []))
    return panels


def test_one_dashboard_per_service_plus_a_business_one() -> None:
    assert {p.stem for p in DASHBOARDS} == {*SERVICES, "business"}


@pytest.mark.parametrize("path", DASHBOARDS, ids=lambda p: p.stem)
def test_dashboard_parses_with_unique_uid_and_panel_ids(path: Any) -> None:
    dashboard = json.loads(path.read_text())
    assert dashboard["uid"] == f"fieldreports-{path.stem}"
    ids = [p["id"] for p in _panels(dashboard)]
    assert len(ids) == len(set(ids))
    assert ids


@pytest.mark.parametrize("path", DASHBOARDS, ids=lambda p: p.stem)
def test_every_panel_query_references_metrics_that_exist_in_the_code(path: Any) -> None:
    known = code_metric_names()
    for panel in _panels(json.loads(path.read_text())):
        for target in panel.get("targets", []):
            missing = promql_metric_names(target["expr"]) - known
            assert not missing, f"{path.name} / {panel['title']}: {missing}"
            assert target["datasource"]["uid"] == "prometheus"


def test_datasource_and_dashboard_provider_are_provisioned() -> None:
    prov = DEPLOY / "grafana/provisioning"
    (ds,) = load_yaml(prov / "datasources/prometheus.yml")["datasources"]
    assert ds["uid"] == "prometheus"
    assert ds["url"] == "http://prometheus:9090"
    (provider,) = load_yaml(prov / "dashboards/fieldreports.yml")["providers"]
    assert provider["options"]["path"] == "/var/lib/grafana/dashboards"
