# PM Value — two commands on a fresh machine: `make run` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/pip install --quiet --disable-pip-version-check -c requirements/constraints.txt
HOST   ?= 127.0.0.1
PORT   ?= 8000

.PHONY: run test lint format typecheck pytest bench lock clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# The app's dependencies, reinstalled whenever pyproject.toml or the pins change.
$(VENV)/.installed-base: pyproject.toml requirements/constraints.txt | $(BIN)/python
	$(PIP) -e .
	@touch $@

$(VENV)/.installed-dev: pyproject.toml requirements/constraints.txt | $(BIN)/python
	$(PIP) -e '.[dev]'
	@touch $@ $(VENV)/.installed-base

## make run: the app with demo data on the embedded default, at http://$(HOST):$(PORT)
run: $(VENV)/.installed-base
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py demo_data --url http://$(HOST):$(PORT)/
	$(BIN)/python manage.py runserver $(HOST):$(PORT)

## make test: lint, format check, type check and the whole pytest suite
test: lint typecheck pytest

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(VENV)/.installed-dev
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

typecheck: $(VENV)/.installed-dev
	$(BIN)/mypy .

pytest: $(VENV)/.installed-dev
	$(BIN)/pytest $(PYTEST_ARGS)

## make bench: the reference scale (DESIGN.md §7) on its own PostgreSQL database, in four
## tables: strategy (ingestion throughput, read latencies against raw SQL), initiatives
## (lists and impact of 10,000 initiatives against raw SQL), then value (value/summary/,
## value/objectives/ and the dashboard under 4 concurrent clients, against raw SQL), then
## one quarterly value report end to end and per section (bench/report.py), against raw SQL
BENCH_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/pm_value_bench
bench: $(VENV)/.installed-base
	$(BIN)/python bench/database.py $(BENCH_DATABASE_URL)
	DATABASE_URL=$(BENCH_DATABASE_URL) $(BIN)/python manage.py migrate --noinput
	DATABASE_URL=$(BENCH_DATABASE_URL) $(BIN)/python manage.py load_scale_metrics --workspace bench --skip-if-loaded
	DATABASE_URL=$(BENCH_DATABASE_URL) $(BIN)/python bench/strategy.py --workspace bench
	DATABASE_URL=$(BENCH_DATABASE_URL) $(BIN)/python manage.py load_scale_initiatives --workspace bench --skip-if-loaded
	@# The pages run with DEBUG off, so they need the hashed static files of production.
	DEBUG=false SECRET_KEY=collectstatic-for-make-bench-only-not-a-secret-0123456789abcdef \
	  ALLOWED_HOSTS=127.0.0.1 $(BIN)/python manage.py collectstatic --noinput --verbosity 0
	DATABASE_URL=$(BENCH_DATABASE_URL) $(BIN)/python bench/initiatives.py --workspace bench
	DATABASE_URL=$(BENCH_DATABASE_URL) $(BIN)/python bench/value.py --workspace bench
	DATABASE_URL=$(BENCH_DATABASE_URL) $(BIN)/python bench/report.py --workspace bench

## make lock: re-pin every dependency after changing pyproject.toml
lock: $(VENV)/.installed-dev
	@{ echo "# Exact versions for every install: pip install -c requirements/constraints.txt -e '.[dev]'"; \
	   echo "# Regenerate after changing pyproject.toml: make lock"; \
	   $(BIN)/pip freeze --exclude-editable | grep -v -i '^pm-value'; } > requirements/constraints.txt

clean:
	rm -rf $(VENV) staticfiles .pytest_cache .mypy_cache .ruff_cache
