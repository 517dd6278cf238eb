# Sourced by .ci/run: a throwaway PostgreSQL cluster on 127.0.0.1 for the tests that need
# one (tests/pg.py). start_postgres exports NEWSLETTER_TEST_DATABASE_URL when the server
# runs, and otherwise says why and returns 0: the PostgreSQL tests then skip, the run
# is never red because of the database server's setup. stop_postgres drops it again.
PG_CLUSTER="" PG_VERSION="" PG_DIR=""

install_postgres() {
  local policy=/usr/sbin/policy-rc.d added="" status=0
  if [ ! -e "$policy" ]; then  # the package's own cluster and service must not start
    printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod 755 "$policy" && added=1
  fi
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
    --no-install-recommends -o Dpkg::Options::=--force-confdef \
    -o Dpkg::Options::=--force-confold postgresql >/dev/null || status=$?
  if [ -n "$added" ]; then rm -f "$policy"; fi
  if [ "$status" != 0 ]; then return "$status"; fi
  if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
    systemctl disable --now postgresql.service >/dev/null 2>&1 || true
  fi
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

start_postgres() {
  if ! command -v pg_createcluster >/dev/null 2>&1 && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
      install_postgres || { echo "PostgreSQL could not be installed: the PostgreSQL tests skip" >&2; return 0; }
    else
      echo "PostgreSQL is missing and cannot be installed here: the PostgreSQL tests skip" >&2
      return 0
    fi
  fi
  local port password bin
  port=$(free_port) password=$(python3 -c 'import secrets; print(secrets.token_hex(16))')
  if [ "$(id -u)" = 0 ] && command -v pg_createcluster >/dev/null 2>&1; then
    PG_VERSION=$(ls /usr/lib/postgresql | sort -V | tail -n 1)
    PG_CLUSTER="newsletter-ci-$$"
    if ! pg_createcluster -q "$PG_VERSION" "$PG_CLUSTER" -p "$port" \
        -o fsync=off >/dev/null ||
       ! pg_ctlcluster "$PG_VERSION" "$PG_CLUSTER" start; then
      echo "PostgreSQL $PG_VERSION did not start (pg_createcluster/pg_ctlcluster above): the PostgreSQL tests skip" >&2
      stop_postgres; return 0
    fi
    if ! runuser -u postgres -- psql -q -p "$port" -v ON_ERROR_STOP=1 \
        -c "CREATE ROLE newsletter LOGIN PASSWORD '$password'" \
        -c "CREATE DATABASE newsletter_test OWNER newsletter" >/dev/null; then
      echo "the test role and database could not be created: the PostgreSQL tests skip" >&2
      stop_postgres; return 0
    fi
  else  # not root: a cluster of our own in a temporary folder
    bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
    PG_DIR=$(mktemp -d)
    printf '%s\n' "$password" >"$PG_DIR/pw"
    if ! "$bin/initdb" -D "$PG_DIR/data" -U newsletter --pwfile="$PG_DIR/pw" -A scram-sha-256 >/dev/null ||
       ! "$bin/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/log" -w -o "-p $port -c listen_addresses=127.0.0.1 -k $PG_DIR -c fsync=off" start >/dev/null ||
       ! PGPASSWORD=$password "$bin/createdb" -h 127.0.0.1 -p "$port" -U newsletter newsletter_test; then
      echo "PostgreSQL did not start in $PG_DIR (log: $(tail -n 3 "$PG_DIR/log" 2>/dev/null)): the PostgreSQL tests skip" >&2
      stop_postgres; return 0
    fi
  fi
  export NEWSLETTER_TEST_DATABASE_URL="postgresql+psycopg://newsletter:$password@127.0.0.1:$port/newsletter_test"
  echo "PostgreSQL runs on 127.0.0.1:$port for the tests"
}

stop_postgres() {
  if [ -n "$PG_CLUSTER" ]; then
    pg_dropcluster --stop "$PG_VERSION" "$PG_CLUSTER" >/dev/null 2>&1 || true
    PG_CLUSTER=""
  fi
  if [ -n "$PG_DIR" ]; then
    "$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)/pg_ctl" -D "$PG_DIR/data" -m immediate stop >/dev/null 2>&1 || true
    rm -rf "$PG_DIR"
    PG_DIR=""
  fi
}
