# Two entry points: `make dev` (set up, start a dev agent) and `make test` (set up, run tests).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: dev test setup system unit e2e bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	touch $(STAMP)

setup: $(STAMP)

# Debian packages for drivers, etcd, the UI tests (scripts/setup-system.sh says which)
system:
	scripts/setup-system.sh

dev: setup system
	$(BIN)/nomad agent -dev

test: setup system
	$(BIN)/python -m pytest -n 2 tests

unit: setup
	$(BIN)/python -m pytest tests/unit

e2e: setup system
	$(BIN)/python -m pytest tests/e2e

clean:
	rm -rf $(VENV) build src/*.egg-info
