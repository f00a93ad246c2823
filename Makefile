# Kraken Market — every target sets up what it needs itself; a fresh machine needs only
# Python 3.11, Node.js 20 (with npm) and make. make test also installs Debian's Chromium
# (as root, with apt-get) for the browser tests when /usr/bin/chromium is missing.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
READY  := $(VENV)/.installed

WEB_READY := web/node_modules/.installed
CHAIN_TOOLS := tools/chain/node_modules/.installed
WEB_BUILT := web/dist/.built
WEB_SOURCES := $(shell find web/apps web/packages -type f -not -path '*/node_modules/*' 2>/dev/null) web/package.json web/tsconfig.json
CHROMIUM := /usr/bin/chromium

.PHONY: up test lint format typecheck typecheck-python typecheck-web bench contracts clean web web-client

# Setting up runs side by side: pip and npm mostly wait on the network, and the Python
# and TypeScript checks (mypy, tsc) each keep one core busy (a fresh clone of make test
# is about a minute shorter than one step at a time).
# (Not with clean among the goals: `make clean test` must remove before it installs.)
ifeq ($(filter clean,$(MAKECMDGOALS)),)
MAKEFLAGS += --jobs=3
endif

$(READY): pyproject.toml constraints.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[dev]'
	@touch $@

# The web workspace's packages, exactly as the lockfile says.
$(WEB_READY): web/package-lock.json web/package.json
	cd web && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

# Test tools: Foundry's anvil, the real EVM node the ledger client's tests run against.
$(CHAIN_TOOLS): tools/chain/package-lock.json tools/chain/package.json
	cd tools/chain && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

# The marketplace and wallet apps, built into web/dist (the API serves them).
$(WEB_BUILT): $(WEB_READY) $(WEB_SOURCES)
	cd web && npm run --silent build
	@touch $@

web: $(WEB_BUILT)

## web-client: regenerate the committed OpenAPI spec and the web apps' client from the API
web-client: $(READY) $(WEB_READY)
	$(BIN)/python -m kraken_market.web.spec
	cd web && npm run --silent api:generate

$(CHROMIUM):
	@if [ "$$(id -u)" = 0 ]; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null; \
	else \
		echo "The browser tests need Debian's Chromium: sudo apt-get install chromium"; exit 1; \
	fi

## up: run the whole platform locally, web apps included (Ctrl-C stops it)
up: $(READY) $(WEB_BUILT)
	$(BIN)/kraken-market up

## test: lint, type-check and run the test suite on SQLite and PostgreSQL
## (TEST_WORKERS processes, each test module on one; the longest modules start first)
TEST_WORKERS ?= 3
test: $(READY) $(WEB_BUILT) $(CHAIN_TOOLS) $(CHROMIUM) lint typecheck
	$(BIN)/pytest -q -n $(TEST_WORKERS) --dist loadgroup --no-loadscope-reorder --durations=15

lint: $(READY) $(WEB_READY)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	cd web && npx biome ci .

format: $(READY) $(WEB_READY)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .
	cd web && npx biome check --write .

typecheck: typecheck-python typecheck-web

typecheck-python: $(READY)
	$(BIN)/mypy

typecheck-web: $(WEB_READY)
	cd web && npm run --silent typecheck

## bench: catalog search, ledger throughput, login verification, SMPC, the paid computation end to end, the web marketplace (each against its baseline)
bench: $(READY) $(WEB_BUILT) $(CHAIN_TOOLS) $(CHROMIUM)
	$(BIN)/python bench/catalog.py
	$(BIN)/python bench/ledger.py
	$(BIN)/python -m bench.ledger_market
	$(BIN)/python -m bench.identity
	$(BIN)/python -m bench.smpc
	$(BIN)/python -m bench.e2e
	$(BIN)/python -m bench.web

## contracts: recompile the Vyper contracts into the committed artifacts (ledger/contracts/artifacts)
contracts: $(READY)
	$(BIN)/python -m kraken_market.ledger.contracts.build

clean:
	rm -rf $(VENV) .kraken .mypy_cache .pytest_cache .ruff_cache web/node_modules web/dist tools/chain/node_modules
