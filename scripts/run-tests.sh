#!/usr/bin/env bash
# `make test` (and `make test-latest`, `make e2e`): run-tests.sh VENV [PYTEST ARGS...]
# Installs the Debian packages the tests use when they are missing and we are root
# (GNU gettext, Chromium with Noto fonts, dovecot, PostgreSQL: scripts/test-services.sh),
# starts a throwaway PostgreSQL cluster unless NEWSLETTER_TEST_DATABASE_URL already
# names a database, runs ruff, the import contracts and pytest with VENV's tools, and
# drops the cluster again however the run ends.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=${1:?usage: scripts/run-tests.sh VENV [PYTEST ARGS...]}
shift
. scripts/test-services.sh

install_test_packages
if [ -z "${NEWSLETTER_TEST_DATABASE_URL:-}" ]; then
  trap stop_postgres EXIT
  start_postgres
fi

"$venv/bin/ruff" check --no-cache .
"$venv/bin/lint-imports"
"$venv/bin/python" -m pytest -q "$@"
