# Concord — the two commands: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
CONFIG ?= data/config.yaml
SERVER_NAME ?= localhost:8008

.PHONY: run test lint typecheck pytest bench clean-venv

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check --upgrade pip
	$(PY) -m pip install -q --disable-pip-version-check -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	$(PY) -m pip install -q --disable-pip-version-check -e '.[test]'
	touch $@

## make run: install, generate config + signing key on first run, serve.
run: $(VENV)/.installed
	@test -f $(CONFIG) || $(PY) -m homeserver generate-config --config $(CONFIG) --server-name $(SERVER_NAME)
	$(PY) -m homeserver run --config $(CONFIG)

## make test: lint, type checks and the whole test suite.
test: lint typecheck pytest

lint: $(VENV)/.installed-test
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: $(VENV)/.installed-test
	$(VENV)/bin/mypy homeserver federation appservice sfu benchmarks

pytest: $(VENV)/.installed-test
	$(VENV)/bin/pytest

## make bench: benchmarks (not part of make test).
bench: $(VENV)/.installed-test
	$(PY) benchmarks/bench_signing.py
	$(PY) benchmarks/bench_state_res.py

clean-venv:
	rm -rf $(VENV)
