# SME University course service. `make help` lists the targets.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.DEFAULT_GOAL := help
.PHONY: help install run migrate seed test test-pg fuzz lint format messages bench bench-itc clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "}; {printf "  make %-10s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP) ## create .venv and install the project with its test tools

run: $(STAMP) ## migrate, load the seeds when empty, serve on http://$${HOST:-127.0.0.1}:$${PORT:-8000}
	$(BIN)/python -m courses run

migrate: $(STAMP) ## apply database migrations to DATABASE_URL (default var/courses.core.db)
	$(BIN)/python -m courses migrate

seed: $(STAMP) ## load the seed files into an empty database
	$(BIN)/python -m courses seed --if-empty

test: $(STAMP) ## run the whole test suite (TEST_DATABASE_URL selects the database; SQLite by default)
	$(BIN)/python -m pytest -q $(PYTEST_ARGS)

fuzz: $(STAMP) ## Schemathesis against the OpenAPI document as four roles (FUZZ_MAX_TIME s each, default 30)
	$(BIN)/python tests/fuzz_api.py

lint: $(STAMP) ## ruff, and mypy on src
	$(BIN)/ruff check src tests bench seeds
	$(BIN)/ruff format --check src tests bench seeds
	$(BIN)/mypy

format: $(STAMP) ## format the code with ruff
	$(BIN)/ruff format src tests bench seeds
	$(BIN)/ruff check --fix src tests bench seeds

LOCALE := src/courses/locale
messages: $(STAMP) ## extract the pages' text into $(LOCALE)/messages.pot and update the ja and en catalogues
	$(BIN)/pybabel extract -F babel.cfg -k N_ --sort-output --project sme-courses -o $(LOCALE)/messages.pot .
	$(BIN)/pybabel update -i $(LOCALE)/messages.pot -d $(LOCALE) -l ja --no-fuzzy-matching
	$(BIN)/pybabel update -i $(LOCALE)/messages.pot -d $(LOCALE) -l en --no-fuzzy-matching
	@echo "Now write the English of every empty msgstr in $(LOCALE)/en/LC_MESSAGES/messages.po"

bench: $(STAMP) ## service throughput, bulk upload and solver benchmarks (prints figures)
	@# The HTTP benchmark drives the service with wrk (Debian's package), installed here when root can.
	@command -v wrk >/dev/null 2>&1 || [ "$$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1 \
	  || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null) \
	  || echo "bench: could not install wrk; the HTTP benchmark will say so and be skipped"
	$(BIN)/python bench/run_all.py

bench-itc: $(STAMP) ## the ITC-2007 track 3 benchmark, 21 instances (ITC_TIME_LIMIT seconds each, default 60)
	$(BIN)/python bench/itc2007.py --time-limit $${ITC_TIME_LIMIT:-60}

clean: ## remove the virtualenv and the local database
	rm -rf $(VENV) var
