"""What the deploy tests compare the manifests with: the code's services, settings and metrics."""

from __future__ import annotations

import importlib
import inspect
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from shared.settings import ServiceSettings

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
SERVICES = {"intake": 8001, "routing": 8002, "notify": 8003, "analytics": 8004}

# Variables a service container may carry besides its settings fields.
EXTRA_SERVICE_ENV = {"SERVICE", "OTEL_EXPORTER_OTLP_ENDPOINT"}


def load_yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text())


def load_all_yaml(path: Path) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(path.read_text()) if d]


def settings_class(service: str) -> type[ServiceSettings]:
    """The service's `ServiceSettings` subclass from `services/<name>/settings.py`."""
    module = importlib.import_module(f"services.{service}.settings")
    found = [
        cls
        for _, cls in inspect.getmembers(module, inspect.isclass)
        if issubclass(cls, ServiceSettings)
        and cls is not ServiceSettings
        and cls.__module__ == module.__name__
    ]
    assert len(found) == 1, f"services/{service}/settings.py: expected one settings class"
    return found[0]


def settings_env_names(service: str) -> set[str]:
    return {name.upper() for name in settings_class(service).model_fields}


# ------------------------------------------------------------------ metric names in the code

_METRIC_CALL = re.compile(
    r"\b(Counter|Gauge|Histogram|Summary)\(\s*(?:name\s*=\s*)?[\"']([a-zA-Z_:][a-zA-Z0-9_:]*)[\"']"
)
_SUFFIXES = {
    "Counter": ("_total", "_created"),
    "Gauge": ("",),
    "Histogram": ("_bucket", "_sum", "_count", "_created"),
    "Summary": ("", "_sum", "_count", "_created"),
}


def code_metric_names() -> set[str]:
    """Every series name the services can expose: shared/, services/ and FastStream's middleware."""
    names = {"up", "scrape_duration_seconds", "scrape_samples_scraped"}
    files = [*ROOT.glob("shared/**/*.py"), *ROOT.glob("services/**/*.py")]
    for path in files:
        for kind, name in _METRIC_CALL.findall(path.read_text()):
            base = name.removesuffix("_total") if kind == "Counter" else name
            names |= {base + s for s in _SUFFIXES[kind]}
    import faststream.prometheus.container as fs

    for base in re.findall(r'f"\{metrics_prefix\}_([a-z_]+)"', Path(fs.__file__).read_text()):
        name = f"faststream_{base}"
        names |= {name, f"{name}_bucket", f"{name}_sum", f"{name}_count", f"{name}_created"}
    return names


_KEYWORDS = {"and", "or", "unless", "bool", "offset", "by", "without", "on", "ignoring"}
_KEYWORDS |= {"group_left", "group_right", "inf", "nan"}


def promql_metric_names(expr: str) -> set[str]:
    """Metric names referenced by a PromQL expression (strings, labels, ranges, groupings removed)."""
    e = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)
    e = re.sub(r"\{[^}]*\}", " ", e)
    e = re.sub(r"\[[^\]]*\]", " ", e)
    e = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", e)
    names = set()
    for m in re.finditer(r"(?<![\w.])([a-zA-Z_:][a-zA-Z0-9_:]*)\s*(\()?", e):
        if m.group(2) is None and m.group(1).lower() not in _KEYWORDS:
            names.add(m.group(1))
    return names


# ------------------------------------------------------------------ Debian's prometheus package


def prometheus_bin(name: str) -> str:
    """Path of `promtool` or `prometheus`; installs Debian's package when missing, or fails."""
    found = shutil.which(name)
    if found:
        return found
    if shutil.which("apt-get") is None or os.geteuid() != 0:
        pytest.fail(f"{name} is missing and cannot be installed here: apt-get install prometheus")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    cmd = ["apt-get", "install", "-y", "--no-install-recommends", "prometheus"]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:  # the package lists may be missing on a fresh machine
        subprocess.run(["apt-get", "update"], env=env, capture_output=True, check=False)
        done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    found = shutil.which(name)
    if not found:
        pytest.fail(
            f"could not install Debian's prometheus package for {name}:\n{done.stderr[-2000:]}"
        )
    return found
