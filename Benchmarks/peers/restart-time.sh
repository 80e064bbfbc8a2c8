#!/usr/bin/env bash
# How long `slotsim serve` takes to start on a long journal, with and without a snapshot.
#  1. serve with --snapshot-every 0, create USERS people and book them (wrk, SECONDS), stop;
#  2. start with --snapshot-every 0: the whole journal is replayed; time to "listening on"; stop;
#  3. start with snapshots on (replays the whole journal once more), stop cleanly: a snapshot is written;
#  4. start with snapshots on: the snapshot is restored; time to "listening on".
# Needs: swift build -c release --product slotsim; wrk (Debian's package).
# Usage: bash Benchmarks/peers/restart-time.sh [USERS] [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/../.."
users=${1:-60000}
seconds=${2:-20}
command -v wrk >/dev/null || { echo "restart-time: wrk is missing: sudo apt-get install -y wrk" >&2; exit 2; }
slotsim=.build/release/slotsim
[ -x "$slotsim" ] || { echo "restart-time: build first: swift build -c release --product slotsim" >&2; exit 2; }
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
head -c 32 /dev/urandom > "$work/key"

# start SNAPSHOT_EVERY: starts the server, waits for its start line, sets $elapsed to the seconds it took.
start() {
  local t0 t1
  t0=$(date +%s.%N)
  "$slotsim" serve --scenario scenarios/quickstart.yaml --set campaign.days=3 --set "campaign.districts[0].centers[0].capacityPerDay=100000" \
    --port 18090 --data-dir "$work/data" --key-file "$work/key" --otp-outbox "$work/outbox" --rate-limit 100000000/60 \
    --token-rate-limit 100000 --snapshot-every "$1" > "$work/serve.log" 2>&1 &
  server=$!
  for _ in $(seq 6000); do grep -q "listening on" "$work/serve.log" && break; sleep 0.01; done
  t1=$(date +%s.%N)
  grep -q "listening on" "$work/serve.log" || { cat "$work/serve.log" >&2; exit 1; }
  elapsed=$(echo "$t0 $t1" | awk '{ printf "%.2f", $2 - $1 }')
}
stop() { kill -TERM "$server"; wait "$server" || true; }

start 0
echo "start, empty journal: ${elapsed} s"
date=$(TZ=Asia/Kolkata date -d tomorrow +%d-%m-%Y)
echo "== creating $users people"
python3 Benchmarks/peers/load/make-users.py 18090 "$work/outbox" "$users" "$work/users.txt"
session=$(curl -s "http://127.0.0.1:18090/api/v2/appointment/sessions/public/findByDistrict?district_id=1&date=$date" | python3 -c 'import json,sys;print(json.load(sys.stdin)["sessions"][0]["session_id"])')
echo "== booking them, ${seconds} s"
USERS="$work/users.txt" SESSION="$session" wrk -t2 -c64 -d"${seconds}s" -s Benchmarks/peers/load/schedule.lua http://127.0.0.1:18090 | grep -E "requests in|Non-2xx"
stop
echo "journal: $(stat -c %s "$work/data/journal.log") bytes"

for run in 1 2 3; do
  start 0; line=$(grep "listening on" "$work/serve.log"); stop
  echo "start, whole journal replayed: ${elapsed} s   (${line##*: }"
done
start 100000; stop
echo "snapshot: $(stat -c %s "$work/data/snapshot.bin") bytes; $(grep -o "snapshot of record.*" "$work/serve.log")"
for run in 1 2 3; do
  start 100000; line=$(grep "listening on" "$work/serve.log"); stop
  echo "start from the snapshot: ${elapsed} s   (${line##*: }"
done
