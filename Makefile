# Concord — the two commands: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
CONFIG ?= data/config.yaml
SERVER_NAME ?= localhost:8008

.PHONY: run test lint typecheck pytest bench bench-synapse bench-federation clean-venv

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check --upgrade pip
	$(PY) -m pip install -q --disable-pip-version-check -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed | libolm
	$(PY) -m pip install -q --disable-pip-version-check -e '.[test]'
	touch $@

# libolm for python-olm, which matrix-nio's E2E support (tests/integration/test_nio_e2ee.py)
# needs: Debian's libolm-dev, installed with apt-get (as root, or through sudo). Skipped only
# where there is no apt-get (python-olm's wheel bundles libolm on common platforms).
.PHONY: libolm
libolm:
	@if dpkg -s libolm-dev >/dev/null 2>&1; then :; \
	elif ! command -v apt-get >/dev/null 2>&1; then \
		echo "apt-get not found: libolm-dev not installed (python-olm must come as a wheel)"; \
	else \
		if [ "$$(id -u)" -eq 0 ]; then SUDO=; else SUDO=sudo; fi; \
		$$SUDO apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq libolm-dev; \
	fi

## make run: install, generate config + signing key on first run, serve.
## The SFU (voice) runs beside the homeserver: its config and bot registration are generated
## on first run (sfu generate only writes what is missing); Ctrl-C stops both.
SFU_CONFIG ?= $(dir $(CONFIG))sfu.yaml
SFU_PORT ?= 8090
run: $(VENV)/.installed web
	@test -f $(CONFIG) || $(PY) -m homeserver generate-config --config $(CONFIG) --server-name $(SERVER_NAME)
	@$(PY) -m sfu generate --config $(SFU_CONFIG) --homeserver-config $(CONFIG) --port $(SFU_PORT)
	@$(PY) -c 'import sys; from pathlib import Path; from homeserver.config import load_config; \
		print("\nConcord is starting: open " + load_config(Path(sys.argv[1])).public_baseurl + "\n")' $(CONFIG)
	@$(PY) -m sfu run --config $(SFU_CONFIG) & sfu=$$!; \
	trap 'kill $$sfu 2>/dev/null; wait $$sfu' EXIT INT TERM; \
	$(PY) -m homeserver run --config $(CONFIG)

## make test: lint, type checks, the web client's checks and the whole test suite (with
## the browser tests in Debian's Chromium, tests/web/).
test: lint typecheck webcheck pytest

## The web client (web/): `npm ci` when the lockfile changed, `npm run build` into web/dist
## when a source changed. Without npm the server still runs, without its client at /.
WEB := web
WEB_SOURCES := $(shell find $(WEB)/src $(WEB)/public -type f 2>/dev/null) \
	$(WEB)/index.html $(WEB)/vite.config.ts $(WEB)/tsconfig.json $(WEB)/package.json
.PHONY: web webcheck chromium
web: $(WEB)/dist/index.html

$(WEB)/node_modules/.installed: $(WEB)/package.json $(WEB)/package-lock.json
	@if command -v npm >/dev/null 2>&1; then \
		cd $(WEB) && npm ci --no-audit --no-fund --loglevel=error && touch node_modules/.installed; \
	else echo "npm not found: install Node.js >= 20.19 (Debian: apt-get install nodejs npm)" \
		"to build the web client; the homeserver runs without it"; fi

$(WEB)/dist/index.html: $(WEB)/node_modules/.installed $(WEB_SOURCES)
	@if [ -f $(WEB)/node_modules/.installed ]; then cd $(WEB) && npm run build; \
	else echo "web client not built (no npm): / will say so"; fi

## tsc --noEmit and Vitest (the client's state logic).
webcheck: $(WEB)/node_modules/.installed
	cd $(WEB) && npx tsc --noEmit && npx vitest run

# Debian's Chromium for the browser tests (tests/web/, driven by Playwright through its
# executable_path: Playwright's own browser downloads are never used). Installed with
# apt-get like libolm; skipped only where there is no apt-get. Noto Color Emoji draws the
# reaction picker and reactions (without it they are empty boxes in screenshots).
chromium:
	@if { command -v chromium >/dev/null 2>&1 || [ -x /usr/bin/chromium ]; } && \
		dpkg -s fonts-noto-color-emoji >/dev/null 2>&1; then :; \
	elif ! command -v apt-get >/dev/null 2>&1; then \
		echo "apt-get not found: chromium not installed (set CONCORD_CHROMIUM to a Chromium binary)"; \
	else \
		if [ "$$(id -u)" -eq 0 ]; then SUDO=; else SUDO=sudo; fi; \
		$$SUDO apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium fonts-noto-color-emoji; \
	fi

lint: $(VENV)/.installed-test
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: $(VENV)/.installed-test
	$(VENV)/bin/mypy homeserver federation appservice sfu benchmarks

# matrix-js-sdk for tests/integration/test_js_sdk.py (pinned by its package-lock.json).
JS_IT := tests/integration/js
$(JS_IT)/node_modules/.installed: $(JS_IT)/package.json $(JS_IT)/package-lock.json
	@if command -v npm >/dev/null 2>&1; then \
		cd $(JS_IT) && npm ci --no-audit --no-fund --loglevel=error && touch node_modules/.installed; \
	else echo "npm not found: the matrix-js-sdk integration test will skip"; fi

# The reference Synapse for the federation interop tests (tests/interop/), in its own
# cached venv: Synapse's dependencies must not leak into Concord's. The tests find it at
# .venv-synapse/bin/python (or $$SYNAPSE_PYTHON) and skip without it outside CI.
SYNAPSE_VERSION := 1.163.2
SYNAPSE_VENV    := .venv-synapse
$(SYNAPSE_VENV)/.installed-$(SYNAPSE_VERSION):
	test -x $(SYNAPSE_VENV)/bin/python || $(PYTHON) -m venv $(SYNAPSE_VENV)
	$(SYNAPSE_VENV)/bin/python -m pip install -q --disable-pip-version-check \
		'matrix-synapse==$(SYNAPSE_VERSION)'
	$(SYNAPSE_VENV)/bin/python -c 'import synapse.app.homeserver'
	touch $@

.PHONY: synapse
synapse: $(SYNAPSE_VENV)/.installed-$(SYNAPSE_VERSION)

pytest: $(VENV)/.installed-test $(JS_IT)/node_modules/.installed synapse chromium web
	REQUIRE_SYNAPSE=1 REQUIRE_BROWSER=1 $(VENV)/bin/pytest

## make bench: benchmarks (not part of make test).
bench: $(VENV)/.installed-test
	$(PY) benchmarks/bench_signing.py
	$(PY) benchmarks/bench_state_res.py

## make bench-server: Concord vs a reference Synapse, same mxbench scenarios, SQLite and
## PostgreSQL (Synapse is installed into .bench/ on first use). Not part of make test.
## BENCH_ARGS="--quick" for a smoke run, "--engines sqlite", "--profile" for py-spy hot spots.
.PHONY: bench-server
bench-server: $(VENV)/.installed-test
	$(PY) benchmarks/bench_vs_synapse.py $(BENCH_ARGS)

clean-venv:
	rm -rf $(VENV) $(SYNAPSE_VENV)

## make bench-synapse: Concord vs Synapse on state resolution, hash+sign and verify, same
## datasets, same run (Synapse is installed into .bench/synapse-venv on first use).
bench-synapse: $(VENV)/.installed-test
	$(PY) benchmarks/compare_protocol.py

## make bench-federation: joining a room of 2,000 members and 10,000 events created on
## Synapse, from a second Synapse and from Concord, same run (prints the ratio).
bench-federation: $(VENV)/.installed-test synapse
	$(PY) benchmarks/bench_federation_join.py $(BENCH_ARGS)

## make bench-sfu: the SFU forwarding synthetic RTP, N publishers x M subscribers over
## loopback (CPU per stream, latency, join to first frame). Not part of make test.
## BENCH_ARGS="--publishers 4 --subscribers 25 --seconds 10 --profile".
.PHONY: bench-sfu
bench-sfu: $(VENV)/.installed-test
	$(PY) benchmarks/bench_sfu.py $(BENCH_ARGS)
