# Two entry points: `make dev` (set up, start a dev agent) and `make test` (set up, run tests).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# the web UI's npm libraries, copied into the package's assets (ui/build.mjs)
UI_VENDOR := src/pynomad/http/webui/assets/vendor/xterm.mjs

.PHONY: dev test setup system unit e2e bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	touch $(STAMP)

$(UI_VENDOR): ui/package.json ui/package-lock.json ui/build.mjs
	cd ui && npm ci --no-audit --no-fund --loglevel=error && npm run -s build

setup: $(STAMP) $(UI_VENDOR)

# Debian packages for drivers, etcd, the UI tests (scripts/setup-system.sh says which)
system:
	scripts/setup-system.sh

dev: system setup
	$(BIN)/nomad agent -dev

test: system setup
	$(BIN)/python -m pytest -n 2 tests

unit: setup
	$(BIN)/python -m pytest tests/unit

e2e: system setup
	$(BIN)/python -m pytest tests/e2e

clean:
	rm -rf $(VENV) build src/*.egg-info ui/node_modules src/pynomad/http/webui/assets/vendor
