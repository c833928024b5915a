# The CSP news mailer. `make help` lists the targets.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
POSTGRES_URL ?= $(or $(MAILER_TEST_POSTGRES_URL),postgresql+psycopg://postgres@127.0.0.1:5432/test)
RESULTS := .test-results

.DEFAULT_GOAL := help
.PHONY: help install run test test-sqlite test-postgres lint format bench clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "} {printf "  %-14s %s\n", $$1, $$2}'

# npm brings GOV.UK Frontend's compiled CSS, JS, fonts and images, which the app serves at /assets/.
$(BIN)/.installed: pyproject.toml package.json $(wildcard package-lock.json)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	if [ -f package-lock.json ]; then npm ci --no-audit --no-fund; else npm install --no-audit --no-fund; fi
	touch $@

install: $(BIN)/.installed ## Create the virtual environment and install the service with its test tools

run: install ## Set up and run everything on SQLite: web app, worker, scheduler, local outbox
	$(BIN)/mailer db upgrade
	$(BIN)/mailer seed-topics
	$(BIN)/mailer seed-demo
	$(BIN)/mailer dev

lint: install ## ruff (lint and format check) and mypy (strict on mailer/)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

test-sqlite: install ## Run the test suite on SQLite
	@mkdir -p $(RESULTS)
	$(BIN)/pytest --db sqlite --junitxml=$(RESULTS)/sqlite.xml

test-postgres: install ## Run the test suite on PostgreSQL (MAILER_TEST_POSTGRES_URL)
	@mkdir -p $(RESULTS)
	MAILER_TEST_POSTGRES_URL=$(POSTGRES_URL) $(BIN)/pytest --db postgres --junitxml=$(RESULTS)/postgres.xml

test: lint test-sqlite test-postgres ## Lint, then the whole suite on SQLite and again on PostgreSQL

format: install ## Reformat the code
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# smtp-sink comes from Debian's postfix package, unpacked into bench/.tools; without it the
# bench counts with a slower aiosmtpd server.
bench: install ## Time a daily digest end to end against plain smtplib (BENCH_ARGS="--subscribers N ...")
	-bench/fetch_smtp_sink.sh
	$(BIN)/python bench/fanout.py $(BENCH_ARGS)

clean: ## Remove the virtual environment and caches
	rm -rf $(VENV) $(RESULTS) .pytest_cache .mypy_cache .ruff_cache *.egg-info
