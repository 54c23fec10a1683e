# Two commands on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: install demo test test-all test-faults bench schema check-schema migrate clean

$(STAMP): pyproject.toml requirements.lock
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "JIT needs Python 3.11 or newer"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check -c requirements.lock -e '.[demo,test]'
	@touch $(STAMP)

install: $(STAMP)

## Run the whole product on embedded defaults (SQLite, a Redis server, moto) with a demo organization.
demo: install
	$(BIN)/jit demo

## The test suite (real PostgreSQL, Redis and moto); long fault-injection and load tests are in test-all.
test: install
	$(BIN)/python -m pytest

test-all: install
	$(BIN)/python -m pytest -m "slow or not slow"

## The fault-injection suite (docs/reliability.md): real processes, faults, >=100 tickets per scenario.
test-faults: install
	$(BIN)/python -m pytest -m slow tests/faults -p no:randomly -s

bench: install
	$(BIN)/python bench/run.py

schema: install
	$(BIN)/jit export-schema -o schema.graphql

migrate: install
	$(BIN)/jit migrate

clean:
	rm -rf $(VENV) .jit .pytest_cache
