# Two commands on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: lint lint-py install demo cluster test test-cluster test-notify test-all test-browser test-fuzz test-faults frontend frontend-test console-if-node chromium bench schema check-schema migrate clean

$(STAMP): pyproject.toml requirements.lock
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "JIT needs Python 3.11 or newer"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check -c requirements.lock -e '.[demo,test,lint]'
	@touch $(STAMP)

install: $(STAMP)

## Run the whole product on embedded defaults (SQLite, a Redis server, moto) with a demo organization.
demo: install console-if-node
	$(BIN)/jit demo

## docker-compose.yml's topology as local processes: 2 APIs behind a round-robin proxy (port
## JIT_CLUSTER_PORT, 8100), 2 workers, the machine's PostgreSQL (database jit_cluster) and Redis, moto.
cluster: install console-if-node
	$(BIN)/python -m jit.demo.cluster

## The scale-out properties over that topology (tests/ops/test_cluster.py; also in test-all).
test-cluster: install
	$(BIN)/python -m pytest -m slow tests/ops/test_cluster.py

## The test suite (real PostgreSQL, Redis and moto) plus the console's build and Vitest unit
## tests; long fault-injection, load and browser tests are in test-all.
test: install frontend-test
	$(BIN)/python -m pytest

test-all: install frontend-test chromium
	$(BIN)/python -m pytest -m "slow or not slow"

## The console in a real browser (Playwright + Debian chromium) against jit serve + worker + moto.
test-browser: install frontend chromium
	$(BIN)/python -m pytest -m browser tests/e2e/test_console_browser.py -s

## ruff (lint + import order) and mypy (strict on jit/) on the Python; eslint on the console.
lint: lint-py

lint-py: install
	$(BIN)/ruff check jit tests bench
	$(BIN)/mypy

# --- the console (frontend/) ---------------------------------------------------------
FRONTEND      := frontend
NODE_STAMP    := $(FRONTEND)/node_modules/.package-lock.json
CONSOLE_INDEX := $(FRONTEND)/dist/index.html
CONSOLE_SRC   := $(shell find $(FRONTEND)/src $(FRONTEND)/e2e -type f -not -path '*/generated/*' 2>/dev/null) \
                 $(FRONTEND)/index.html $(FRONTEND)/vite.config.ts $(FRONTEND)/codegen.ts \
                 $(FRONTEND)/tsconfig.json schema.graphql

$(NODE_STAMP): $(FRONTEND)/package.json $(FRONTEND)/package-lock.json
	@command -v npm >/dev/null || { echo "npm not found: install Node.js 20+ with npm to build the console"; exit 1; }
	cd $(FRONTEND) && npm ci --no-audit --no-fund
	@touch $(NODE_STAMP)

# Codegen checks every GraphQL document against schema.graphql, so the build fails when they disagree.
$(CONSOLE_INDEX): $(NODE_STAMP) $(CONSOLE_SRC)
	cd $(FRONTEND) && npm run build
	@touch $(CONSOLE_INDEX)

## Build the console into frontend/dist (served by `jit serve` at /); skipped when up to date.
frontend: $(CONSOLE_INDEX)

frontend-test: frontend
	cd $(FRONTEND) && npx vitest run

console-if-node:
	@if command -v npm >/dev/null 2>&1; then $(MAKE) --no-print-directory frontend; \
	else echo "*** npm not found: the console is not built, so http://127.0.0.1:8000/ says how to build it."; \
	     echo "*** Install Node.js 20+ with npm and run 'make frontend'; the GraphQL API works without it."; fi

# Debian's chromium for the browser tests (the machine reaches Debian's registry; Playwright's own download does not work here).
chromium:
	@test -x /usr/bin/chromium || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) >/dev/null; \
	  else echo "/usr/bin/chromium is missing: install Debian's chromium package (apt-get install chromium)"; exit 1; fi; }
	@test -x /usr/bin/chromium || { echo "chromium did not install"; exit 1; }

## Generated GraphQL operations against a real server (also part of test-all); prints how many were tried.
test-fuzz: install
	$(BIN)/python -m pytest -m slow tests/security/test_fuzz.py -s

## The fault-injection suite (docs/reliability.md): real processes, faults, >=100 tickets per scenario.
test-faults: install
	$(BIN)/python -m pytest -m slow tests/faults -s

## The notification outbox's promise (docs/notifications.md): a channel outage and a killed
## worker, with real SMTP, Slack-shaped and webhook receivers; prints the duplicate count.
test-notify: install
	$(BIN)/python -m pytest -m slow tests/notify -s

## Benchmarks (docs/performance.md): tables printed, JSON in bench/results/. BENCH=name runs one; ARGS=--quick is smaller.
bench: install
	BENCH="$(BENCH)" $(BIN)/python bench/run.py $(ARGS)

schema: install
	$(BIN)/jit export-schema -o schema.graphql
	$(BIN)/jit export-schema --rules -o docs/rules.schema.json

migrate: install
	$(BIN)/jit migrate

clean:
	rm -rf $(VENV) .jit .pytest_cache $(FRONTEND)/node_modules $(FRONTEND)/dist $(FRONTEND)/artifacts
