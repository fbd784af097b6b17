"""The structure rules of docs/ARCHITECTURE.md, checked on the code (no I/O)."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SERVICES = ("intake", "routing", "notify", "analytics")
SOURCES = sorted(
    p for top in ("services", "shared") for p in (ROOT / top).rglob("*.py") if p.is_file()
)
MAX_FILE_LINES = 300
MAX_FUNCTION_LINES = 60
HTTP = ("fastapi", "starlette")
STORAGE = ("pymongo", "bson", "gridfs", "motor")


def _imports(path: Path) -> Iterator[str]:
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            yield node.module


def _layer(path: Path) -> str | None:
    parts = path.relative_to(ROOT).parts
    if parts[0] != "services" or len(parts) < 3:
        return None
    return parts[2].removesuffix(".py")


def _rel(path: Path) -> str:
    return str(path.relative_to(ROOT))


def test_no_source_file_is_over_300_lines() -> None:
    long = [_rel(p) for p in SOURCES if len(p.read_text().splitlines()) > MAX_FILE_LINES]
    assert long == []


def test_no_function_is_over_60_lines() -> None:
    long = [
        f"{_rel(p)}:{node.name}"
        for p in SOURCES
        for node in ast.walk(ast.parse(p.read_text()))
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and (node.end_lineno or 0) - node.lineno + 1 > MAX_FUNCTION_LINES
    ]
    assert long == []


@pytest.mark.parametrize("layer", ["domain", "usecases", "stores", "handlers"])
def test_no_http_type_below_the_edge(layer: str) -> None:
    found = [
        f"{_rel(p)}: {name}"
        for p in SOURCES
        if _layer(p) == layer
        for name in _imports(p)
        if name.split(".")[0] in HTTP
    ]
    assert found == []


@pytest.mark.parametrize("layer", ["domain", "usecases"])
def test_no_storage_library_in_the_domain_or_use_cases(layer: str) -> None:
    found = [
        f"{_rel(p)}: {name}"
        for p in SOURCES
        if _layer(p) == layer
        for name in _imports(p)
        if name.split(".")[0] in STORAGE
    ]
    assert found == []


def test_no_service_imports_another_and_shared_imports_none() -> None:
    found = []
    for p in SOURCES:
        parts = p.relative_to(ROOT).parts
        own = parts[1] if parts[0] == "services" else None
        for name in _imports(p):
            bits = name.split(".")
            if bits[0] == "services" and len(bits) > 1 and bits[1] != own:
                found.append(f"{_rel(p)}: {name}")
    assert found == []


def test_every_service_has_the_same_wiring_files() -> None:
    shape = {
        "app.py",
        "settings.py",
        "errors.py",
        "handlers.py",
        "domain",
        "usecases",
        "stores",
        "api",
    }
    missing = {
        svc: sorted(shape - {p.name for p in (ROOT / "services" / svc).iterdir()})
        for svc in SERVICES
    }
    assert missing == {svc: [] for svc in SERVICES}
