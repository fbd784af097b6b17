"""The Dockerfile (no Docker engine here): multi-stage, locked deps without dev, non-root, healthcheck."""

from __future__ import annotations

import re

from tests.deploy.support import ROOT

DOCKERFILE = (ROOT / "Dockerfile").read_text()


def test_builds_the_locked_environment_without_dev_dependencies() -> None:
    assert "COPY pyproject.toml uv.lock ./" in DOCKERFILE
    assert "uv sync --frozen --no-dev" in DOCKERFILE


def test_runtime_stage_is_slim_and_runs_as_non_root() -> None:
    stages = re.findall(r"^FROM (\S+) AS (\w+)", DOCKERFILE, re.M)
    assert [name for _, name in stages] == ["build", "runtime"]
    assert "slim" in re.search(r"ARG PYTHON_IMAGE=(\S+)", DOCKERFILE).group(1)  # type: ignore[union-attr]
    user = re.findall(r"^USER (\S+)", DOCKERFILE, re.M)
    assert user
    assert not user[-1].startswith(("root", "0"))


def test_healthcheck_calls_health_live_with_urllib() -> None:
    check = re.search(r"^HEALTHCHECK .*?CMD (.*)$", DOCKERFILE, re.M | re.S)
    assert check
    assert "urllib.request" in check.group(1)
    assert "/health/live" in check.group(1)


def test_command_runs_the_service_named_by_service() -> None:
    assert 'CMD ["sh", "-c", "exec python -m \\"services.${SERVICE}\\""]' in DOCKERFILE


def test_dockerignore_lets_only_the_code_and_the_lock_in() -> None:
    lines = (ROOT / ".dockerignore").read_text().split()
    assert lines[lines.index("**")] == "**"
    assert {"!pyproject.toml", "!uv.lock", "!shared/", "!services/"} <= set(lines)
