# PAO — the two commands: `make run` and `make test`. Everything else is for contributors.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)

.PHONY: run test lint format bench setup clean

$(STAMP): pyproject.toml
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	rm -f $(VENV)/.installed-* && touch $@

setup: $(STAMP)

run: setup ## serve PAO with the sample catalog, embedded SQLite and the demo provisioner
	PAO_DEMO_PROVISIONER=true $(BIN)/pao serve

test: setup ## set up and run every test (unit, integration on SQLite and PostgreSQL, e2e)
	$(BIN)/pytest

lint: setup
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .
	$(BIN)/mypy

format: setup
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: setup ## benchmarks print numbers and ratios; not part of the test run
	$(BIN)/python bench/validate.py
	$(BIN)/python bench/actions.py
	$(BIN)/python bench/catalog_api.py

clean:
	rm -rf $(VENV) .pao .mypy_cache .ruff_cache .pytest_cache
