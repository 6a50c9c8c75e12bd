# Two commands on a fresh machine:  `make run`  and  `make test`.
# Both create .venv and install the package (with its dev extras) on first use.

PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

export RELAPSE_DATA_DIR ?= $(abspath ../shared/data)

.PHONY: run test lint typecheck install clean chromium

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	@touch $(STAMP)

install: $(STAMP)

## run: the main job on the data snapshot in $(RELAPSE_DATA_DIR)
run: $(STAMP)
	$(BIN)/relapse run

## test: the whole suite (unit, snapshot integration, slow end-to-end, browser)
test: $(STAMP) chromium
	$(BIN)/python -m pytest

## chromium: Debian's headless Chromium for the report's browser test (installed when missing)
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "installing Debian's chromium for the browser test"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null; }

lint: $(STAMP)
	$(BIN)/ruff check relapse tests benchmarks notebooks
	$(BIN)/ruff format --check relapse tests benchmarks notebooks

typecheck: $(STAMP)
	$(BIN)/mypy

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
