#!/usr/bin/env bash
# Checks the system packages slotsim needs and installs the missing ones with apt-get
# when run as root; otherwise prints the exact command to run and stops.
# The list: libopenblas-dev (linear algebra for policy tuning) and pkg-config (finds it); with
# the argument `test` or `peers`, also python3 with venv (`make test`'s checks of the scenario
# schema, of CSV exports in pandas, and schemathesis; the Python peers of `make peers`); with `test`, chromium (renders an HTML report headless) and
# postgresql (a private server for the tests of the PostgreSQL store, scripts/with-postgres.sh).
set -euo pipefail

command -v swift >/dev/null || { echo "setup: Swift is not on the PATH; install Swift 6.1 or later first." >&2; exit 1; }

missing=()
dpkg -s libopenblas-dev >/dev/null 2>&1 || missing+=(libopenblas-dev)
command -v pkg-config >/dev/null || missing+=(pkg-config)
if [ "${1:-}" = test ] || [ "${1:-}" = peers ]; then
  command -v python3 >/dev/null || missing+=(python3)
  python3 -c 'import ensurepip, venv' >/dev/null 2>&1 || missing+=(python3-venv)
fi
if [ "${1:-}" = test ]; then
  command -v chromium >/dev/null || missing+=(chromium)
  ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing+=(postgresql)
fi

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" -eq 0 ]; then
  echo "setup: installing ${missing[*]} with apt-get"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${missing[@]}" >/dev/null
  echo "setup: installed ${missing[*]}"
else
  echo "setup: missing system packages: ${missing[*]}" >&2
  if command -v sudo >/dev/null; then
    echo "setup: run:  sudo apt-get update && sudo apt-get install -y ${missing[*]}" >&2
  else
    echo "setup: run:  su -c 'apt-get update && apt-get install -y ${missing[*]}'" >&2
  fi
  exit 1
fi
