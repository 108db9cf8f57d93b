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
BENCH_ARGS ?=

.PHONY: all sim test unit lint bench deploy board-test clean venv firmware

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
	$(BIN)/python -m pytest -n $(JOBS) --dist worksteal -q host_tests --ignore=host_tests/board

lint: $(STAMP)
	$(BIN)/ruff check firmware drivers boards host_tests tools *.py
	$(BIN)/ruff format --check firmware drivers boards host_tests tools *.py
	$(BIN)/pyright -p pyrightconfig.rp2.json
	$(BIN)/pyright -p pyrightconfig.esp32.json
	$(BIN)/pyright -p pyrightconfig.host.json

bench: $(STAMP)
	$(BIN)/python -m tools.bench $(BENCH_ARGS)

deploy: $(STAMP)
	@test -n "$(PORT)" || { echo "usage: make deploy PORT=/dev/ttyACM0|socket://HOST:PORT"; exit 2; }
	$(BIN)/pumpctl --port $(PORT) deploy

# the firmware on the real rp2 MicroPython in ../shared/rp2emu (one emulated Pico, ports 0)
board-test: $(STAMP)
	$(BIN)/python -m pytest -q -p no:cacheprovider host_tests/board

# The Pico firmware the application deploys to: MicroPython's RPI_PICO with a ROMFS
# partition (micropython/boards/RPI_PICO_ROMFS), built from a MicroPython checkout at the
# tag the project is tested on, as an out-of-tree board (the checkout is not modified
# but for its build directory). Needs what MicroPython's rp2 port needs: cmake and
# arm-none-eabi-gcc. Writes $(FW_OUT)/RPI_PICO_ROMFS-$(MICROPY_TAG).uf2.
MICROPY ?=
MICROPY_TAG := v1.28.0
FW_BOARD := RPI_PICO_ROMFS
FW_OUT ?= build/firmware
FW_BUILD := $(abspath $(FW_OUT))/build-$(FW_BOARD)
FW_UF2 := $(FW_OUT)/$(FW_BOARD)-$(MICROPY_TAG).uf2

firmware:
	@test -n "$(MICROPY)" || { echo "usage: make firmware MICROPY=path/to/micropython (a git checkout at $(MICROPY_TAG))"; exit 2; }
	@test -f "$(MICROPY)/ports/rp2/Makefile" || { echo "$(MICROPY) is not a MicroPython checkout"; exit 2; }
	@tag=$$(git -C "$(MICROPY)" describe --tags --exact-match 2>/dev/null); \
	  test "$$tag" = "$(MICROPY_TAG)" || { echo "$(MICROPY) is at '$$tag', not $(MICROPY_TAG): git -C $(MICROPY) checkout $(MICROPY_TAG)"; exit 2; }
	$(MAKE) -C "$(MICROPY)/mpy-cross"
	$(MAKE) -C "$(MICROPY)/ports/rp2" BOARD_DIR=$(abspath micropython/boards/$(FW_BOARD)) BUILD=$(FW_BUILD) submodules
	$(MAKE) -C "$(MICROPY)/ports/rp2" BOARD_DIR=$(abspath micropython/boards/$(FW_BOARD)) BUILD=$(FW_BUILD)
	@mkdir -p $(FW_OUT)
	cp $(FW_BUILD)/firmware.uf2 $(FW_UF2)
	@echo "built $(FW_UF2): hold BOOTSEL, plug the Pico in, drag it onto RPI-RP2 (docs/boards.md)"

clean:
	rm -rf $(VENV) bench/results.json build
