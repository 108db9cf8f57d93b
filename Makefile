# Every target sets up .venv itself from the pinned requirements files.
SHELL := /bin/bash
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
REQS := requirements.txt requirements-stubs-rp2.txt requirements-stubs-esp32.txt pyproject.toml
JOBS ?= auto
PORT ?=
SIM_ARGS ?=

.PHONY: all sim test unit lint bench deploy board-test clean venv

all: test

$(STAMP): $(REQS)
	@test -x $(BIN)/python || $(PY) -m venv $(VENV)
	@$(BIN)/python -m pip install -q --disable-pip-version-check -r requirements.txt
	@$(BIN)/python -m pip install -q --disable-pip-version-check --no-deps -e . 
	@for port in rp2 esp32; do \
	  rm -rf $(VENV)/stubs/$$port; \
	  $(BIN)/python -m pip install -q --disable-pip-version-check --no-deps \
	    --target $(VENV)/stubs/$$port -r requirements-stubs-$$port.txt || exit 1; \
	done
	@touch $(STAMP)

venv: $(STAMP)

sim: $(STAMP)
	@$(BIN)/python -m tools.sim.launch $(SIM_ARGS)

test: $(STAMP) lint unit board-test

unit: $(STAMP)
	$(BIN)/python -m pytest -n $(JOBS) -q host_tests --ignore=host_tests/board

lint: $(STAMP)
	$(BIN)/ruff check firmware drivers boards host_tests tools *.py
	$(BIN)/ruff format --check firmware drivers boards host_tests tools *.py
	$(BIN)/pyright -p pyrightconfig.rp2.json
	$(BIN)/pyright -p pyrightconfig.esp32.json
	$(BIN)/pyright -p pyrightconfig.host.json

bench: $(STAMP)
	$(BIN)/python -m tools.bench

deploy: $(STAMP)
	@test -n "$(PORT)" || { echo "usage: make deploy PORT=/dev/ttyACM0|socket://HOST:PORT"; exit 2; }
	$(BIN)/pumpctl --port $(PORT) deploy

# the firmware on the real rp2 MicroPython in ../shared/rp2emu (one emulated Pico, ports 0)
board-test: $(STAMP)
	$(BIN)/python -m pytest -q -p no:cacheprovider host_tests/board

clean:
	rm -rf $(VENV) bench/results.json build
