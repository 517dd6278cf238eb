# Sourced by scripts/run-tests.sh: the system parts the tests use. install_test_packages
# installs the Debian packages that are missing when we run as root with apt-get;
# otherwise it says which tests will skip and why. start_postgres starts a throwaway
# PostgreSQL cluster on 127.0.0.1 and exports NEWSLETTER_TEST_DATABASE_URL;
# stop_postgres drops it again.
PG_CLUSTER="" PG_VERSION="" PG_DIR=""

can_install() {
  [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1
}

why_not_installed() {
  if [ "$(id -u)" != 0 ]; then echo "not root"; else echo "no apt-get"; fi
}

have_package() {  # a Debian package; without dpkg, the program it brings ("true": cannot tell)
  if command -v dpkg-query >/dev/null 2>&1; then
    [ "$(dpkg-query -W -f '${db:Status-Status}' "$1" 2>/dev/null)" = installed ]
  else
    command -v "$2" >/dev/null 2>&1
  fi
}

have_postgres() {
  command -v pg_createcluster >/dev/null 2>&1 || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1
}

# Services (dovecot, nginx, Caddy, PostgreSQL) must not start from their packages: the
# tests run their own instances on free loopback ports. A policy-rc.d that refuses every start is
# in place during the install (one an image already ships is kept), and where systemd
# runs, the units are disabled afterwards.
apt_install() {  # apt_install [--no-install-recommends] PACKAGE...
  local policy=/usr/sbin/policy-rc.d added="" status=0
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod 755 "$policy" && added=1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -o Dpkg::Options::=--force-confdef \
    -o Dpkg::Options::=--force-confold "$@" >/dev/null || status=$?
  if [ -n "$added" ]; then rm -f "$policy"; fi
  return "$status"
}

install_test_packages() {
  local tools=() services=()
  command -v msgfmt >/dev/null 2>&1 || tools+=(gettext)
  command -v chromium >/dev/null 2>&1 || tools+=(chromium)
  have_package fonts-noto-core true || tools+=(fonts-noto-core)
  have_package dovecot-imapd dovecot || services+=(dovecot-imapd)
  have_package nginx nginx || services+=(nginx)  # tests/test_deploy.py: deploy/nginx.conf
  have_package caddy caddy || services+=(caddy)  # tests/test_deploy.py: deploy/Caddyfile
  have_postgres || services+=(postgresql)
  if [ "${#tools[@]}" -eq 0 ] && [ "${#services[@]}" -eq 0 ]; then return 0; fi
  if ! can_install; then
    echo "missing Debian packages, not installed ($(why_not_installed)): ${tools[*]} ${services[*]}" >&2
    return 0  # the tests needing them skip and say why; msgfmt's absence fails them
  fi
  echo "installing Debian packages for the tests: ${tools[*]} ${services[*]}"
  apt-get update -qq || echo "apt-get update failed; trying the install anyway" >&2
  if [ "${#tools[@]}" -gt 0 ]; then
    apt_install "${tools[@]}" || echo "could not install ${tools[*]}" >&2
  fi
  if [ "${#services[@]}" -gt 0 ]; then
    apt_install --no-install-recommends "${services[@]}" || echo "could not install ${services[*]}" >&2
    if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
      systemctl disable --now dovecot.service dovecot.socket nginx.service caddy.service \
        postgresql.service >/dev/null 2>&1 || true
    fi
  fi
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Returns 0 when the server runs or cannot be had at all (then the PostgreSQL tests skip,
# and this says why); 1 when PostgreSQL is installed but does not start: a broken
# server must not pass as 248 skipped tests.
start_postgres() {
  if ! have_postgres; then
    echo "PostgreSQL is not installed ($(can_install && echo "its install failed" || why_not_installed)): the PostgreSQL tests skip" >&2
    return 0
  fi
  local port password bin
  port=$(free_port) password=$(python3 -c 'import secrets; print(secrets.token_hex(16))')
  if [ "$(id -u)" = 0 ] && command -v pg_createcluster >/dev/null 2>&1; then
    PG_VERSION=$(ls /usr/lib/postgresql | sort -V | tail -n 1)
    PG_CLUSTER="newsletter-test-$$"
    if ! pg_createcluster -q "$PG_VERSION" "$PG_CLUSTER" -p "$port" -o fsync=off >/dev/null ||
       ! pg_ctlcluster "$PG_VERSION" "$PG_CLUSTER" start; then
      echo "PostgreSQL $PG_VERSION did not start (pg_createcluster/pg_ctlcluster above)" >&2
      stop_postgres; return 1
    fi
    if ! runuser -u postgres -- psql -q -p "$port" -v ON_ERROR_STOP=1 \
        -c "CREATE ROLE newsletter LOGIN PASSWORD '$password'" \
        -c "CREATE DATABASE newsletter_test OWNER newsletter" >/dev/null; then
      echo "the test role and database could not be created in PostgreSQL" >&2
      stop_postgres; return 1
    fi
  else  # not root: a cluster of our own in a temporary folder
    bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
    PG_DIR=$(mktemp -d)
    printf '%s\n' "$password" >"$PG_DIR/pw"
    if ! "$bin/initdb" -D "$PG_DIR/data" -U newsletter --pwfile="$PG_DIR/pw" -A scram-sha-256 >/dev/null ||
       ! "$bin/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/log" -w -o "-p $port -c listen_addresses=127.0.0.1 -k $PG_DIR -c fsync=off" start >/dev/null ||
       ! PGPASSWORD=$password "$bin/createdb" -h 127.0.0.1 -p "$port" -U newsletter newsletter_test; then
      echo "PostgreSQL did not start in $PG_DIR (log: $(tail -n 3 "$PG_DIR/log" 2>/dev/null))" >&2
      stop_postgres; return 1
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
