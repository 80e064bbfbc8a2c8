#!/usr/bin/env bash
# Runs a command with a private PostgreSQL server for the tests of the PostgreSQL store:
#   scripts/with-postgres.sh swift test
# The newest PostgreSQL installed (15 on Debian 12). initdb in a new temporary directory (as the postgres user when run as root: initdb
# refuses root), the server on 127.0.0.1 and a free port with fsync on, then the command
# with SLOTSIM_TEST_POSTGRES_URL set; the server is stopped and its directory removed after,
# whatever the command's outcome. The command's exit status is the script's.
set -euo pipefail
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
if [ -z "$bin" ] || [ ! -x "$bin/initdb" ]; then
  echo "with-postgres: no PostgreSQL server binaries in /usr/lib/postgresql/*/bin (run: bash scripts/setup-system.sh test)" >&2
  exit 1
fi
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
dir=$(mktemp -d /tmp/slotsim-pg.XXXXXX)
as_owner=()
child=
stop() {
  if [ -n "$child" ]; then kill "$child" 2>/dev/null || true; fi
  if [ -f "$dir/data/postmaster.pid" ]; then "${as_owner[@]}" "$bin/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true; fi
  rm -rf "$dir"
}
trap stop EXIT
trap 'exit 143' TERM INT
if [ "$(id -u)" -eq 0 ]; then
  chown postgres "$dir"
  as_owner=(runuser -u postgres --)
fi
"${as_owner[@]}" "$bin/initdb" -D "$dir/data" -A trust -U postgres -E UTF8 >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; exit 1; }
"${as_owner[@]}" "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
  -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c max_connections=200" start >/dev/null || { cat "$dir/server.log" >&2; exit 1; }
echo "with-postgres: PostgreSQL $("$bin/postgres" --version | awk '{print $3}') on 127.0.0.1:$port"
export SLOTSIM_TEST_POSTGRES_URL="postgres://postgres@127.0.0.1:$port/postgres?sslmode=disable"
# In the background, so that a signal to this script also stops the command (via the trap).
"$@" &
child=$!
set +e
wait "$child"
status=$?
set -e
child=
exit $status
