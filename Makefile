# Kraken Market — every target sets up .venv itself; a fresh machine needs only Python 3.11 and make.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
READY  := $(VENV)/.installed

.PHONY: up test lint format typecheck bench contracts clean

$(READY): pyproject.toml constraints.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[dev]'
	@touch $@

## up: run the whole platform locally (Ctrl-C stops it)
up: $(READY)
	$(BIN)/kraken-market up

## test: lint, type-check and run the test suite on SQLite and PostgreSQL
## (TEST_WORKERS processes; whole-platform tests one at a time, the rest shared out)
TEST_WORKERS ?= 3
test: $(READY) lint typecheck
	$(BIN)/pytest -q -n $(TEST_WORKERS) --dist loadgroup --durations=15

lint: $(READY)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(READY)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

typecheck: $(READY)
	$(BIN)/mypy

## bench: catalog search, ledger throughput, login verification, SMPC, the paid computation end to end (each against its baseline)
bench: $(READY)
	$(BIN)/python bench/catalog.py
	$(BIN)/python bench/ledger.py
	$(BIN)/python -m bench.ledger_market
	$(BIN)/python -m bench.identity
	$(BIN)/python -m bench.smpc
	$(BIN)/python -m bench.e2e

## contracts: recompile the Vyper contracts into the committed artifacts (ledger/contracts/artifacts)
contracts: $(READY)
	$(BIN)/python -m kraken_market.ledger.contracts.build

clean:
	rm -rf $(VENV) .kraken .mypy_cache .pytest_cache .ruff_cache
