# The two commands: `make run` and `make test`. Everything installs into .venv on first use.
PYTHON ?= python3
UV := .tools/bin/uv
VENV := .venv
PY := $(VENV)/bin/python

.PHONY: run test lint unit install clean bench triage-eval

$(UV):
	$(PYTHON) -m venv .tools
	.tools/bin/pip install --quiet --disable-pip-version-check "uv>=0.5,<1"

$(VENV)/.synced: pyproject.toml uv.lock | $(UV)
	UV_PROJECT_ENVIRONMENT=$(VENV) $(UV) sync --frozen --python $(PYTHON)
	touch $@

install: $(VENV)/.synced

run: install
	$(PY) -m devstack

test: install
	$(PY) -m pytest -q $(PYTEST_ARGS)

unit: install
	$(PY) -m pytest -q -m "not integration" $(PYTEST_ARGS)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy .

clean:
	rm -rf $(VENV) .tools .devstack .mypy_cache .ruff_cache .pytest_cache

# Starts its own embedded stack, measures issue 11's figures, stops it (20-45 minutes).
# BENCH_ARGS e.g. "--quick" (a few minutes), "--history 0", "--attach" (a running `make run`).
bench: install
	$(PY) -m bench $(BENCH_ARGS)

# Category suggestion (issue 14): held-out top-1/top-3 (with and without diacritics, per
# language) and the suggestion's latency, for the seed model the repo ships.
triage-eval: install
	$(PY) -m services.intake.triage eval
