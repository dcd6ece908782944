# HomeSafe: `make demo` runs everything in one process; `make test` runs the whole suite.
# Both create .venv on first use. Python 3.11+ is the only prerequisite; the server tests also run on the
# PostgreSQL at $HOMESAFE_TEST_POSTGRES_URL (default 127.0.0.1:5432) when one answers, and skip that otherwise.

# The first interpreter that actually runs and is 3.11+ (pyenv shims exist for versions not selected).
PYTHON ?= $(shell for p in python3 python3.13 python3.12 python3.11; do \
	$$p -c 'import sys; sys.exit(sys.version_info < (3, 11))' >/dev/null 2>&1 && { command -v $$p; break; }; done)
VENV   := .venv
BIN    := $(VENV)/bin
ARGS   ?=
PYTEST_ARGS ?=

.PHONY: demo test lint bench migration clean

$(BIN)/python:
	@test -n "$(PYTHON)" || { echo "HomeSafe needs Python 3.11+ and found none; set PYTHON=/path/to/python3.11"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.installed-run: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e .
	@touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e ".[test]"
	@touch $@ $(VENV)/.installed-run

demo: $(VENV)/.installed-run
	$(BIN)/homesafe demo $(ARGS)

test: $(VENV)/.installed-test
	$(BIN)/python -m simulators.mosquitto ensure
	$(BIN)/python -m tests.browser.chromium ensure
	$(BIN)/ruff check .
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(VENV)/.installed-test
	$(BIN)/ruff check .

bench: $(VENV)/.installed-test
	$(BIN)/python -m simulators.mosquitto ensure
	$(BIN)/python bench/ingest.py $(ARGS)

# After changing server/db/tables.py: make migration M="add visits.source_id" (then read the new file).
migration: $(VENV)/.installed-test
	@test -n "$(M)" || { echo 'say what changed: make migration M="add visits.source_id"'; exit 1; }
	$(BIN)/python -m server.db.migrate revision -m "$(M)"

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache *.egg-info
