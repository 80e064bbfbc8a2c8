#!/usr/bin/env bash
# The server's CPU per booking: starts `slotsim serve` (embedded journal), creates USERS
# people through the OTP flow, runs wrk's schedule load (each request a new person, so
# USERS must exceed the requests made) and prints wrk's figures and the server's CPU time
# per request (utime + stime from /proc during the run). PERF=1 also records a profile
# (perf record -g) of the server to perf.data in the current directory.
# Usage: bash Benchmarks/peers/schedule-cpu.sh [SLOTSIM_BINARY] [USERS] [SECONDS]
#   A/B: run it on two binaries one after the other, several rounds (the machine is noisy).
set -euo pipefail
here=$(pwd)
cd "$(dirname "$0")/../.."
slotsim=$(realpath "${1:-.build/release/slotsim}")
users=${2:-60000}
seconds=${3:-5}
command -v wrk >/dev/null || { echo "schedule-cpu: wrk is missing: sudo apt-get install -y wrk" >&2; exit 2; }
[ -x "$slotsim" ] || { echo "schedule-cpu: no binary at $slotsim (swift build -c release --product slotsim)" >&2; exit 2; }
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
head -c 32 /dev/urandom > "$work/key"
"$slotsim" serve --scenario scenarios/quickstart.yaml --set campaign.days=3 --set "campaign.districts[0].centers[0].capacityPerDay=100000" \
  --port 18080 --data-dir "$work/data" --key-file "$work/key" --otp-outbox "$work/outbox" --rate-limit 100000000/60 \
  --token-rate-limit 100000 > "$work/serve.log" 2>&1 &
pid=$!
for _ in $(seq 100); do grep -q "listening on" "$work/serve.log" && break; sleep 0.1; done
grep -q "listening on" "$work/serve.log" || { cat "$work/serve.log" >&2; exit 1; }
python3 Benchmarks/peers/load/make-users.py 18080 "$work/outbox" "$users" "$work/users.txt"
date=$(TZ=Asia/Kolkata date -d tomorrow +%d-%m-%Y)
session=$(curl -s "http://127.0.0.1:18080/api/v2/appointment/sessions/public/findByDistrict?district_id=1&date=$date" | python3 -c 'import json,sys;print(json.load(sys.stdin)["sessions"][0]["session_id"])')
perf_pid=
if [ "${PERF:-0}" = 1 ]; then perf record -g -F 999 -p "$pid" -o "$here/perf.data" -- sleep "$seconds" >/dev/null 2>&1 & perf_pid=$!; fi
ticks() { awk '{print $14 + $15}' "/proc/$pid/stat"; }
before=$(ticks)
out=$(USERS="$work/users.txt" SESSION="$session" wrk -t2 -c64 -d"${seconds}s" -s Benchmarks/peers/load/schedule.lua http://127.0.0.1:18080)
after=$(ticks)
echo "$out" | grep -E "Requests/sec|requests in|Non-2xx|p50"
requests=$(echo "$out" | awk '/requests in/ {print $1}')
hz=$(getconf CLK_TCK)
awk -v t=$((after - before)) -v hz="$hz" -v n="$requests" 'BEGIN { printf "server CPU: %.2f s for %d requests = %.0f µs per request\n", t / hz, n, t / hz / n * 1e6 }'
if [ -n "$perf_pid" ]; then wait "$perf_pid" || true; fi
