# Two commands for a newcomer: `make run` (start the whole product) and `make test`.
# Both install what they need: Debian packages (as root, only those missing), then a venv.
PYTHON ?= python3
VENV   ?= .venv
DATA   ?= var
BIN    := $(VENV)/bin

.PHONY: system install run test test-fast test-py312-313 cps-tool test-cps-tool bench clean pcscd element-deps

## Debian packages: swig + libpcsclite-dev build pyscard (CPS card); pcscd + vsmartcard-vpcd
## give the real PC/SC stack with virtual readers (tests, demo); softhsm2 is a real PKCS#11
## module standing in for the CPS middleware; chromium runs browser tests.
SYSTEM_PACKAGES := swig libpcsclite-dev pcscd vsmartcard-vpcd softhsm2 chromium
system:
	@missing=$$(for p in $(SYSTEM_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "Installation des paquets système manquants : $$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	fi

## The server depends on the light CPS tool (cps-tool/, package confrere-cps), installed from
## its folder in the same pip run.
$(BIN)/.installed: pyproject.toml cps-tool/pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet --config-settings editable_mode=compat -e ./cps-tool -e '.[test,bench]'
	touch $@

install: system $(BIN)/.installed

## pcscd with the virtual readers, started if it is not running (the card tests use it).
pcscd: system
	@pgrep -x pcscd >/dev/null || pcscd

## Element's crypto stack for tests/element (matrix-js-sdk + Rust crypto, versions pinned in
## package-lock.json): `npm ci` when node_modules is missing or the lock changed. Node.js and
## npm come with the machine; without them those tests are skipped (and say why).
ELEMENT_DIR := tests/element
element-deps: $(ELEMENT_DIR)/node_modules/.installed
$(ELEMENT_DIR)/node_modules/.installed: $(ELEMENT_DIR)/package-lock.json
	@if command -v npm >/dev/null; then \
	  cd $(ELEMENT_DIR) && npm ci --no-audit --no-fund --loglevel=error && touch node_modules/.installed; \
	else echo "npm absent : les tests Element (tests/element) seront ignorés"; fi

## Start Synapse, the Confrère service and the bot on embedded defaults (Ctrl-C stops).
run: install
	$(BIN)/confrere --data $(DATA) up

## The whole test suite: unit, storage and end-to-end (real Synapse, SQLite and PostgreSQL,
## headless Chromium, real pcscd with a virtual CPS card).
test: install pcscd element-deps
	$(BIN)/python -m pytest

## Unit tests only (no Synapse).
test-fast: install
	$(BIN)/python -m pytest -m "not e2e"

## The unit tests on Python 3.12 and 3.13 too (the full suite runs on $(PYTHON)); each in its
## own venv, from pyenv when it has them, else python3.12 / python3.13 on the PATH.
PY312 ?= $(or $(lastword $(wildcard $(HOME)/.pyenv/versions/3.12.*/bin/python)),python3.12)
PY313 ?= $(or $(lastword $(wildcard $(HOME)/.pyenv/versions/3.13.*/bin/python)),python3.13)
.venv-%/.installed: pyproject.toml cps-tool/pyproject.toml
	$(PY$(subst .,,$*)) -m venv .venv-$*
	.venv-$*/bin/pip install --quiet --upgrade pip
	.venv-$*/bin/pip install --quiet --config-settings editable_mode=compat -e ./cps-tool -e '.[test]'
	touch $@

test-py312-313: system .venv-3.12/.installed .venv-3.13/.installed
	.venv-3.12/bin/python -m pytest -m "not e2e" -q
	.venv-3.13/bin/python -m pytest -m "not e2e" -q

## The practitioner's CPS tool: its wheel in cps-tool/dist, then the tests that install it in a
## fresh venv of each pyenv Python (3.10 to 3.13) and run it through both card paths.
cps-tool: install
	$(BIN)/pip wheel --quiet --no-deps -w cps-tool/dist ./cps-tool
	@ls -l cps-tool/dist/*.whl

test-cps-tool: install pcscd
	$(BIN)/python -m pytest -s tests/cps/test_installed_tool.py

## Benchmarks (not part of the tests): figures printed, never asserted.
bench: install
	$(BIN)/python bench/startup.py
	$(BIN)/python bench/roundtrip.py
	$(BIN)/python bench/outbox_bench.py
	$(BIN)/python bench/access_rules.py
	$(BIN)/python bench/directory_bench.py
	$(BIN)/python bench/directory_bot.py

clean:
	rm -rf $(VENV) .venv-3.12 .venv-3.13 *.egg-info cps-tool/dist cps-tool/*.egg-info
