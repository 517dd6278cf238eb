# The commands the README promises on a fresh machine: `make demo`, `make test`, `make serve`.
# Both create .venv if needed and install the project with its test extras.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
RELEASE ?= releases/2018-08-23-kooperationsvertrag.md

.PHONY: demo test lint setup gettext clean bench e2e chromium serve

setup: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

# GNU msgfmt checks every catalog we write; tests need it. Installed from Debian when
# missing and we are root (CI, fresh machines); otherwise we say what to do.
gettext:
	@command -v msgfmt >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq gettext >/dev/null; \
	  else echo "GNU gettext (msgfmt) is missing: install the 'gettext' package" >&2; exit 1; fi; }

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

test: $(STAMP) gettext
	$(BIN)/ruff check --no-cache .
	$(BIN)/lint-imports
	$(BIN)/python -m pytest -q

# Debian's Chromium and fonts with Arabic, Farsi and Kurdish glyphs, for the browser tests
# (Playwright drives it through executable_path; 'playwright install' cannot download here).
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-core >/dev/null; \
	  else echo "Chromium is missing: install the 'chromium' package (the e2e tests skip without it)" >&2; fi; }

e2e: $(STAMP) gettext chromium
	$(BIN)/python -m pytest -q -m e2e

clean:
	rm -rf build outbox site .pytest_cache .ruff_cache
