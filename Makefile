# Two commands for a newcomer: `make run` (start the whole product) and `make test`.
PYTHON ?= python3
VENV   ?= .venv
DATA   ?= var
BIN    := $(VENV)/bin

.PHONY: install run test test-fast bench clean cps-system

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test,bench]'
	touch $@

install: $(BIN)/.installed

## Start Synapse, the Confrère service and the bot on embedded defaults (Ctrl-C stops).
run: install
	$(BIN)/confrere --data $(DATA) up

## The whole test suite: unit, storage and end-to-end (real Synapse, SQLite and PostgreSQL).
test: install
	$(BIN)/python -m pytest

## Unit tests only (no Synapse).
test-fast: install
	$(BIN)/python -m pytest -m "not e2e"

## Benchmarks (not part of the tests): start-up time and bot round trip.
bench: install
	$(BIN)/python bench/startup.py
	$(BIN)/python bench/roundtrip.py
	$(BIN)/python bench/outbox_bench.py
	$(BIN)/python bench/access_rules.py

clean:
	rm -rf $(VENV) *.egg-info

## CPS card path: pcscd + the vpcd virtual readers (tests, demo), swig + libpcsclite-dev to
## build pyscard. Installs only what is missing (root), then starts pcscd if it is not running.
CPS_PACKAGES := pcscd vsmartcard-vpcd swig libpcsclite-dev
cps-system:
	@missing=$$(for p in $(CPS_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	fi
	@pgrep -x pcscd >/dev/null || pcscd
