# PAO — the two commands: `make run` and `make test`. Everything else is for contributors.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)
# Backstage modules and the real Backstage backend the tests start (npm workspace, committed lockfile).
NODE_DIR := backstage-plugin
NODE_STAMP := $(NODE_DIR)/node_modules/.installed-$(shell cksum $(NODE_DIR)/package-lock.json | cut -d' ' -f1)

.PHONY: run test lint format bench setup node-setup clean

$(STAMP): pyproject.toml
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	rm -f $(VENV)/.installed-* && touch $@

setup: $(STAMP)

# npm ci again only when the lockfile changed; node-gyp builds better-sqlite3 against /usr's Node headers
# (they cannot be downloaded here). Without npm the Backstage tests skip locally; .ci/run requires npm.
$(NODE_STAMP): $(NODE_DIR)/package-lock.json
	@if ! command -v npm >/dev/null; then echo "npm not found: Backstage tests will not run (CI requires them)"; exit 0; fi; \
	cd $(NODE_DIR) && npm_config_nodedir=/usr npm ci --no-audit --no-fund --loglevel=error \
	&& touch node_modules/$(notdir $(NODE_STAMP))

node-setup: $(NODE_STAMP)

run: setup ## serve PAO with the sample catalog, embedded SQLite and the demo provisioner
	PAO_DEMO_PROVISIONER=true PAO_WATCH_CATALOG=true $(BIN)/pao serve

test: setup node-setup ## set up and run every test (unit, integration on SQLite and PostgreSQL, e2e)
	@if command -v npm >/dev/null; then cd $(NODE_DIR) && npm run --silent typecheck && npm test --silent; fi
	$(BIN)/pytest

lint: setup
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .
	$(BIN)/mypy

format: setup
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: setup node-setup ## benchmarks print numbers and ratios; not part of the test run
	$(BIN)/python bench/validate.py
	$(BIN)/python bench/actions.py
	$(BIN)/python bench/catalog_api.py
	$(BIN)/python bench/backstage.py
	$(BIN)/python bench/orchestrate.py

clean:
	rm -rf $(VENV) .pao .mypy_cache .ruff_cache .pytest_cache
