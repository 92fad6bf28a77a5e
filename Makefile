# The two commands: `make run` and `make test`. Everything else supports them.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
PORT   ?= 8000
HOST   ?= 127.0.0.1
FLASK  := $(BIN)/flask --app backend
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD := 1

.PHONY: run serve test install catalogs migrate seed dispatcher lint format openapi openapi-check messages clean web

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $(STAMP)

install: $(STAMP) catalogs

# Compiled .mo catalogs are build products, never committed.
catalogs: $(STAMP)
	$(BIN)/pybabel compile -f -d locales

migrate: install
	$(FLASK) db upgrade

seed: migrate
	$(FLASK) seed-demo

# The web clients (web/): npm ci from the committed lock file, then the Vite build, whose first
# step generates the API types from openapi.yaml (an API change that breaks a screen fails here).
WEB_SOURCES := $(shell find web/src web/app web/m -type f 2>/dev/null) web/vite.config.ts web/tsconfig.json
web/node_modules/.package-lock.json: web/package-lock.json
	cd web && npm ci --no-audit --no-fund
web/dist/.built: web/node_modules/.package-lock.json $(WEB_SOURCES) openapi.yaml
	cd web && npm run build
	touch $@
web: web/dist/.built

# Serves the API, the staff console (/app/) and the family client (/m/), and runs the reminder
# dispatcher beside them; Ctrl-C stops both.
run: seed web
	@echo "API:  http://$(HOST):$(PORT)/api/v1   docs: http://$(HOST):$(PORT)/api/docs"
	@echo "Staff console: http://$(HOST):$(PORT)/app/   Family client: http://$(HOST):$(PORT)/m/"
	$(FLASK) dispatcher & DISPATCHER=$$!; \
	trap 'kill $$DISPATCHER 2>/dev/null' EXIT INT TERM; \
	$(FLASK) run --host $(HOST) --port $(PORT)

# Production-style: gunicorn (WORKERS processes x THREADS threads) with the dispatcher beside
# it. Set DATABASE_URL (PostgreSQL), the secrets and PROXY_FIX_X_FOR (README "Production").
WORKERS ?= 3
THREADS ?= 4
serve: export ENVIRONMENT ?= production
serve: migrate
	$(FLASK) dispatcher & DISPATCHER=$$!; \
	trap 'kill $$DISPATCHER 2>/dev/null' EXIT INT TERM; \
	$(BIN)/gunicorn --workers $(WORKERS) --threads $(THREADS) --bind $(HOST):$(PORT) \
		--graceful-timeout 20 --access-logfile - backend.wsgi:app

dispatcher: migrate
	$(FLASK) dispatcher

# The whole suite: the web client's unit tests (Vitest), then pytest, including the browser
# journeys (tests/web: the built clients in Chromium).
# The suite runs once per database; the two sessions run side by side (one per core), each
# with its own browser-test ports, and the SQLite session's output follows the PostgreSQL one's.
test: install web
	cd web && npm test --silent
	@log=$$(mktemp); \
	BROWSER_TEST_PORT_BASE=8600 TEST_DATABASES=sqlite $(BIN)/pytest $(PYTEST_ARGS) >$$log 2>&1 & lite=$$!; \
	BROWSER_TEST_PORT_BASE=8800 TEST_DATABASES=postgresql $(BIN)/pytest $(PYTEST_ARGS); pg=$$?; \
	wait $$lite; lite=$$?; echo "--- SQLite session ---"; cat $$log; rm -f $$log; \
	echo "PostgreSQL session: exit $$pg; SQLite session: exit $$lite"; test $$pg -eq 0 -a $$lite -eq 0

lint: $(STAMP)
	$(BIN)/ruff check backend tests $(wildcard bench)
	$(BIN)/ruff format --check backend tests $(wildcard bench)
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff check --fix backend tests $(wildcard bench)
	$(BIN)/ruff format backend tests $(wildcard bench)

openapi: install
	$(FLASK) openapi-yaml openapi.yaml

openapi-check: install
	$(FLASK) openapi-yaml /tmp/openapi-check.yaml
	diff -u openapi.yaml /tmp/openapi-check.yaml

# Re-extract user-visible strings and merge them into every catalog.
messages: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg -k _l -k N_ -o locales/messages.pot --no-location --sort-output backend
	$(BIN)/pybabel update -i locales/messages.pot -d locales --no-fuzzy-matching --ignore-obsolete

clean:
	rm -rf $(VENV) instance web/node_modules web/dist
