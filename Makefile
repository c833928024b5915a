# The CSP news mailer. `make help` lists the targets.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
POSTGRES_URL ?= $(or $(MAILER_TEST_POSTGRES_URL),postgresql+psycopg://postgres@127.0.0.1:5432/test)
RESULTS := .test-results

.DEFAULT_GOAL := help
.PHONY: help install run test test-sqlite test-postgres coverage lint format translations bench bench-all clean

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
	$(BIN)/mailer load-csps
	$(BIN)/mailer seed-demo
	$(BIN)/mailer seed-practice-demo
	$(BIN)/mailer dev

lint: install ## ruff, mypy (strict), the layer contracts and the size limits
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports --no-cache
	$(BIN)/python scripts/check_sizes.py
	$(BIN)/python scripts/check_translations.py

# The Welsh catalogue: extract the texts of mailer/, config.py and templates/, bring them into
# translations/cy/LC_MESSAGES/messages.po (new texts come in empty, for their Welsh), then
# compile the .mo the service reads (committed). See translations/README.md.
EXTRACT = $(BIN)/pybabel -q extract -F babel.cfg -k lazy_gettext -k _l -c TRANSLATORS: --no-location --sort-output
translations: install ## Extract the texts to translate, update the Welsh catalogue and compile it
	$(EXTRACT) -o translations/messages.pot .
	$(BIN)/pybabel -q update -i translations/messages.pot -d translations -l cy --no-fuzzy-matching --ignore-obsolete
	rm translations/messages.pot
	$(BIN)/pybabel -q compile -d translations -l cy

# The suite runs on every core (pytest-xdist); PARALLEL= runs it in one process.
PARALLEL ?= -n auto
# Branch coverage of mailer/ on the SQLite pass: `make coverage`, or COVERAGE=$(MEASURE) on any
# test target. Off by default: tracing every branch makes the pass half as fast again.
MEASURE = --cov=mailer --cov-branch --cov-report=
COVERAGE ?=
# The browser tests drive the same pages whatever the database: they run in the SQLite pass
# only (BROWSER_ON_POSTGRES= runs them in both).
BROWSER_ON_POSTGRES ?= --ignore=tests/browser
# TEST_CLOCK moves the clock of a test run, as libfaketime reads it: "+540d", "+2y",
# "@2030-01-01 12:00:00". The browser keeps the real time (see tests/browser/conftest.py).
TEST_CLOCK ?=
# How far ahead `make test` runs its PostgreSQL pass, so that every run proves the suite
# passes on a later date too.
LATER ?= +540d
FAKETIME_LIB = $(BIN)/python -c 'import libfaketime, pathlib; print(pathlib.Path(libfaketime.__file__).parent / "vendor/libfaketime/src/libfaketime.so.1")'
AT_CLOCK = $(if $(TEST_CLOCK),env LD_PRELOAD="$$($(FAKETIME_LIB))" FAKETIME="$(TEST_CLOCK)" FAKETIME_DONT_FAKE_MONOTONIC=1)
# Without MAILER_REQUIRE_POSTGRES (which .ci/run sets), a machine with no PostgreSQL server
# skips that pass and says so.
POSTGRES_ANSWERS = $(BIN)/python -c 'import sys, psycopg; psycopg.connect(sys.argv[1].replace("+psycopg", "", 1), connect_timeout=3).close()' "$(POSTGRES_URL)" 2>/dev/null

test-sqlite: install ## Run the test suite on SQLite (TEST_CLOCK=+540d moves its clock)
	@mkdir -p $(RESULTS)
	$(AT_CLOCK) $(BIN)/pytest --db sqlite --junitxml=$(RESULTS)/sqlite.xml $(PARALLEL) $(COVERAGE)
	$(if $(COVERAGE),$(BIN)/coverage report --format=total | sed 's/^/Branch coverage of mailer\/ (SQLite pass): /; s/$$/%/')

coverage: install ## Run the SQLite pass and print the branch coverage of mailer/
	$(MAKE) test-sqlite COVERAGE="$(MEASURE)"

test-postgres: install ## Run the test suite on PostgreSQL (MAILER_TEST_POSTGRES_URL; TEST_CLOCK too)
	@mkdir -p $(RESULTS)
	@if [ -z "$$MAILER_REQUIRE_POSTGRES" ] && ! $(POSTGRES_ANSWERS); then \
	  echo "PostgreSQL pass SKIPPED: no PostgreSQL server answers at $(POSTGRES_URL)."; \
	  echo "Start one (or point MAILER_TEST_POSTGRES_URL at one) and run: make test-postgres"; \
	else \
	  echo "PostgreSQL pass$(if $(TEST_CLOCK), with the clock moved $(TEST_CLOCK))"; \
	  $(AT_CLOCK) MAILER_TEST_POSTGRES_URL=$(POSTGRES_URL) $(BIN)/pytest --db postgres --junitxml=$(RESULTS)/postgres.xml $(PARALLEL) $(BROWSER_ON_POSTGRES); \
	fi

test: lint test-sqlite ## Lint, the suite on SQLite today, then on PostgreSQL with the clock LATER
	$(MAKE) test-postgres TEST_CLOCK=$(LATER)

format: install ## Reformat the code
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# smtp-sink comes from Debian's postfix package, unpacked into bench/.tools; without it the
# bench counts with a slower aiosmtpd server.
bench: install ## Time a daily digest end to end against plain smtplib (BENCH_ARGS="--subscribers N ...")
	-bench/fetch_smtp_sink.sh
	$(BIN)/python bench/fanout.py $(BENCH_ARGS)

bench-all: install ## Every figure of the sending-at-scale targets on SQLite and PostgreSQL (about an hour)
	-bench/fetch_smtp_sink.sh
	$(BIN)/python bench/all.py --database-url $(POSTGRES_URL) --markdown bench/results.md --logs bench/logs $(BENCH_ARGS)

clean: ## Remove the virtual environment and caches
	rm -rf $(VENV) $(RESULTS) .pytest_cache .mypy_cache .ruff_cache *.egg-info
