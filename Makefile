# Two commands for a newcomer: `make run` (start the whole product) and `make test`.
# Both install what they need: Debian packages (as root, only those missing), then a venv.
PYTHON ?= python3
VENV   ?= .venv
DATA   ?= var
BIN    := $(VENV)/bin

.PHONY: system install run test test-fast bench clean pcscd element-deps

## Debian packages: swig + libpcsclite-dev build pyscard (CPS card); pcscd + vsmartcard-vpcd
## give the real PC/SC stack with virtual readers (tests, demo); chromium runs browser tests.
SYSTEM_PACKAGES := swig libpcsclite-dev pcscd vsmartcard-vpcd chromium
system:
	@missing=$$(for p in $(SYSTEM_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "Installation des paquets système manquants : $$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	fi

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test,bench]'
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

## Benchmarks (not part of the tests): figures printed, never asserted.
bench: install
	$(BIN)/python bench/startup.py
	$(BIN)/python bench/roundtrip.py
	$(BIN)/python bench/outbox_bench.py
	$(BIN)/python bench/access_rules.py
	$(BIN)/python bench/directory_bench.py
	$(BIN)/python bench/directory_bot.py

clean:
	rm -rf $(VENV) *.egg-info
