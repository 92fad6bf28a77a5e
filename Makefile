# The two commands: `make run` and `make test`. Everything else supports them.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
PORT   ?= 8000
HOST   ?= 127.0.0.1
FLASK  := $(BIN)/flask --app backend

.PHONY: run serve test install catalogs migrate seed dispatcher lint format openapi openapi-check messages clean

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

# Serves the API and runs the reminder dispatcher beside it; Ctrl-C stops both.
run: seed
	@echo "API:  http://$(HOST):$(PORT)/api/v1   docs: http://$(HOST):$(PORT)/api/docs"
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

test: install
	$(BIN)/pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check backend tests $(wildcard bench)
	$(BIN)/ruff format --check backend tests $(wildcard bench)

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
	rm -rf $(VENV) instance
