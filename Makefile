# survivor-link: the two commands are `make demo` and `make test`.
PYTHON ?= python3.11
UV := $(PYTHON) -m uv
VENV := .venv
export UV_PYTHON := $(PYTHON)

.PHONY: setup demo demo-cli airflow-demo test lint bench clean

$(VENV)/.synced: pyproject.toml uv.lock
	@$(PYTHON) -m uv --version >/dev/null 2>&1 || $(PYTHON) -m pip install --quiet --disable-pip-version-check uv
	$(UV) sync --frozen --all-extras --compile-bytecode
	@$(VENV)/bin/python -m compileall -q linkage >/dev/null
	@touch $@

setup: $(VENV)/.synced

# The main job under Airflow standalone; the UI stays up until Ctrl-C (DEMO_EXIT=1: stop after).
demo: setup
	$(VENV)/bin/python scripts/airflow_demo.py

airflow-demo: demo

# The same job from the command line alone, no Airflow.
demo-cli: setup
	$(VENV)/bin/survivor-link synth --persons 1000 --seed 1 -o var/demo
	$(VENV)/bin/survivor-link run var/demo
	$(VENV)/bin/survivor-link quarantine
	$(VENV)/bin/survivor-link report weekly -o var/demo/outbox

# Installs or starts what the tests need (LibreOffice, fonts, poppler, PostgreSQL, Redis) first.
test: setup
	@scripts/test_services.sh
	$(VENV)/bin/ruff check linkage dags plugins tests benchmarks scripts
	$(VENV)/bin/pytest -q -n 2 --dist loadfile --no-loadscope-reorder

bench: setup
	$(UV) sync --frozen --all-extras --group bench
	$(VENV)/bin/python benchmarks/ingest_bench.py
	$(VENV)/bin/python benchmarks/linkage_bench.py --persons 20000
	$(VENV)/bin/python benchmarks/incremental_bench.py --persons 20000
	$(VENV)/bin/python benchmarks/robustness_bench.py --persons 5000

clean:
	rm -rf var .pytest_cache
