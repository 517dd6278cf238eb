# The commands the README promises on a fresh machine: `make demo`, `make test`, `make serve`.
# Each creates .venv if needed and install the project with its test extras, every
# package at the version constraints.txt pins (the versions the tests passed with).

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
CONSTRAINTS := constraints.txt
LATEST_VENV ?= .venv-latest
RELEASE ?= releases/2018-08-23-kooperationsvertrag.md
# How constraints.txt is made from pyproject.toml's ranges (the command is also the
# first comment of the file): for Python 3.11 and later, on every platform.
COMPILE := uv pip compile pyproject.toml --extra test --universal --python-version 3.11 \
	--quiet -o $(CONSTRAINTS)

.PHONY: demo test test-latest upgrade lint setup clean bench e2e serve

setup: $(STAMP)

$(STAMP): pyproject.toml $(CONSTRAINTS)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c $(CONSTRAINTS) -e '.[test]'
	touch $(STAMP)

# Newer versions on purpose: every pin moves to the newest version the ranges allow.
# Then `make test`, and commit constraints.txt with what it changed.
upgrade:
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet 'uv>=0.5'
	$(BIN)/$(COMPILE) --upgrade

# The main job on the example workspace: catalogs up to date, previews of every
# edition, then the press release to the members and press lists through the
# file outbox (one .eml per recipient under outbox/<campaign>/), and the web
# archive its "read online" links point to (site/).
demo: $(STAMP)
	$(BIN)/newsletter extract $(RELEASE)
	$(BIN)/newsletter preview $(RELEASE)
	$(BIN)/newsletter recipients check
	$(BIN)/newsletter send $(RELEASE) --list members --list press
	$(BIN)/newsletter archive

# The web app on this machine: http://127.0.0.1:8000/ plus public_url's path (it prints
# the sign-up and admin login addresses); PORT=8001 make serve for another port.
PORT ?= 8000
serve: $(STAMP)
	$(BIN)/newsletter serve --local --port $(PORT)

bench: $(STAMP)
	$(BIN)/python benchmarks/throughput.py

lint: $(STAMP)
	$(BIN)/ruff check --no-cache .
	$(BIN)/lint-imports

# Every test, on the pinned versions. scripts/run-tests.sh installs the Debian packages
# the tests use when missing and run as root (gettext, Chromium, dovecot, PostgreSQL) and
# runs the PostgreSQL tests on a throwaway cluster it drops again.
test: $(STAMP)
	scripts/run-tests.sh $(VENV)

# The same on the newest versions the ranges in pyproject.toml allow today, in a venv of
# its own: what a fresh `pip install` gets, so drift shows here before users see it.
test-latest:
	test -x $(LATEST_VENV)/bin/python || $(PYTHON) -m venv $(LATEST_VENV)
	$(LATEST_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(LATEST_VENV)/bin/python -m pip install --quiet --upgrade --upgrade-strategy eager -e '.[test]'
	scripts/run-tests.sh $(LATEST_VENV)

# The browser tests alone (Debian's Chromium driven by Playwright; never 'playwright install').
e2e: $(STAMP)
	scripts/run-tests.sh $(VENV) -m e2e

clean:
	rm -rf build outbox site .pytest_cache .ruff_cache
