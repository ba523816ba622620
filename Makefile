# Two commands a user needs: `make run` and `make test`. Both set up .venv on first use.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: run test lint bench clean browsers fuzz

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

## run: set up and start the tower on http://127.0.0.1:8000 fed by the demo estate (data/demo.duckdb)
run: $(STAMP)
	$(BIN)/tower demo --scenario simulator/scenarios/default.yaml

## test: set up, lint, type-check and run the whole test suite
test: $(STAMP) lint browsers
	$(BIN)/pytest

## browsers: Debian's chromium for the dashboards' page tests, installed only when it is missing
browsers:
	@test -x /usr/bin/chromium || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
		apt-get install -y -qq chromium) || echo "no chromium: the page tests will be skipped"

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

## fuzz: the fuzz tests of `make test` with many more inputs (every endpoint, the search language)
fuzz: $(STAMP)
	TOWER_FUZZ_EXAMPLES=$${TOWER_FUZZ_EXAMPLES:-300} $(BIN)/pytest tests/fuzz

## bench: performance figures against their ceilings (never part of `make test`)
bench: $(STAMP)
	$(BIN)/python -m benchmarks

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache
