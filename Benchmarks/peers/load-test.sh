#!/usr/bin/env bash
# Load tests of slotsim serve on loopback with wrk (Debian's package), in one run:
#  1. a Hummingbird hello-world (hello-peer), the baseline;
#  2. GET findByDistrict;
#  3. POST schedule, durable bookings with the embedded journal (each request a new person, so
#     USERS must outnumber the bookings of SECONDS: the script reports the 200s and says so if not);
#  with SLOTSIM_TEST_POSTGRES_URL set (run it through scripts/with-postgres.sh), also
#  4. GET findByDistrict and POST schedule with the PostgreSQL store, and
#  5. pgbench's baseline on the same server: UPDATE … SET booked = booked + 1 WHERE booked < capacity.
# Needs release builds:  swift build -c release --product slotsim
#                        swift build -c release --package-path Benchmarks --product hello-peer
# Usage: bash Benchmarks/peers/load-test.sh [USERS] [SECONDS]    (LOAD_SCHEDULE=0: stop after findByDistrict)
#        bash scripts/with-postgres.sh bash Benchmarks/peers/load-test.sh [USERS] [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/../.."
users=${1:-150000}
seconds=${2:-5}
command -v wrk >/dev/null || { echo "load-test: wrk is missing: sudo apt-get install -y wrk" >&2; exit 2; }
slotsim=.build/release/slotsim
hello=Benchmarks/.build/release/hello-peer
[ -x "$slotsim" ] && [ -x "$hello" ] || { echo "load-test: build first (see the header of this script)" >&2; exit 2; }
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT

"$hello" 18081 >/dev/null 2>&1 &
sleep 1
echo "== hello-world (Hummingbird), ${seconds} s"
wrk -t2 -c64 -d"${seconds}s" http://127.0.0.1:18081/hello | grep -E "Requests/sec|Latency"
kill %1; wait %1 2>/dev/null || true

head -c 32 /dev/urandom > "$work/key"
"$slotsim" serve --scenario scenarios/quickstart.yaml --set campaign.days=3 --set "campaign.districts[0].centers[0].capacityPerDay=100000" \
  --port 18080 --data-dir "$work/data" --key-file "$work/key" --otp-outbox "$work/outbox" --rate-limit 100000000/60 \
  --token-rate-limit 100000 > "$work/serve.log" 2>&1 &
for _ in $(seq 100); do grep -q "listening on" "$work/serve.log" && break; sleep 0.1; done
grep -q "listening on" "$work/serve.log" || { cat "$work/serve.log" >&2; exit 1; }
date=$(TZ=Asia/Kolkata date -d tomorrow +%d-%m-%Y)
echo "== findByDistrict (30 centres), ${seconds} s"
wrk -t2 -c64 -d"${seconds}s" "http://127.0.0.1:18080/api/v2/appointment/sessions/public/findByDistrict?district_id=1&date=$date" | grep -E "Requests/sec|Latency|Non-2xx"

if [ "${LOAD_SCHEDULE:-1}" = 0 ]; then exit 0; fi   # LOAD_SCHEDULE=0: hello-world and findByDistrict only
echo "== schedule: creating $users people"
python3 Benchmarks/peers/load/make-users.py 18080 "$work/outbox" "$users" "$work/users.txt"
# The first four sessions of 100,000 a day (70,000 online dose-1 units each): the bookings go to them in turn.
sessions=$(curl -s "http://127.0.0.1:18080/api/v2/appointment/sessions/public/findByDistrict?district_id=1&date=$date" \
  | python3 -c 'import json,sys;print(" ".join([s["session_id"] for s in json.load(sys.stdin)["sessions"] if s["available_capacity_dose1"] >= 50000][:4]))')
echo "== schedule (durable, group commit), ${seconds} s"
USERS="$work/users.txt" SESSIONS="$sessions" wrk -t2 -c64 -d"${seconds}s" -s Benchmarks/peers/load/schedule.lua http://127.0.0.1:18080 | grep -E "Requests/sec|requests in|Non-2xx|bookings|p50"
echo "journal: $(stat -c %s "$work/data/journal.log") bytes"
grep -o "snapshot of record.*" "$work/serve.log" || true

[ -n "${SLOTSIM_TEST_POSTGRES_URL:-}" ] || { echo "(no SLOTSIM_TEST_POSTGRES_URL: PostgreSQL store and pgbench skipped)"; exit 0; }
kill %1 2>/dev/null; wait 2>/dev/null || true
"$slotsim" serve --scenario scenarios/quickstart.yaml --set campaign.days=3 --set "campaign.districts[0].centers[0].capacityPerDay=100000" \
  --port 18082 --store postgres --postgres-url "$SLOTSIM_TEST_POSTGRES_URL&schema=load_$$" --key-file "$work/key" \
  --otp-outbox "$work/outbox-pg" --rate-limit 100000000/60 --token-rate-limit 100000 > "$work/serve-pg.log" 2>&1 &
for _ in $(seq 200); do grep -q "listening on" "$work/serve-pg.log" && break; sleep 0.1; done
grep -q "listening on" "$work/serve-pg.log" || { cat "$work/serve-pg.log" >&2; exit 1; }
echo "== findByDistrict (30 centres), PostgreSQL store, ${seconds} s"
wrk -t2 -c64 -d"${seconds}s" "http://127.0.0.1:18082/api/v2/appointment/sessions/public/findByDistrict?district_id=1&date=$date" | grep -E "Requests/sec|Latency|Non-2xx"
echo "== schedule, PostgreSQL store: creating $users people"
python3 Benchmarks/peers/load/make-users.py 18082 "$work/outbox-pg" "$users" "$work/users-pg.txt"
echo "== schedule (PostgreSQL store, batched commits), ${seconds} s"
USERS="$work/users-pg.txt" SESSIONS="$sessions" wrk -t2 -c64 -d"${seconds}s" -s Benchmarks/peers/load/schedule.lua http://127.0.0.1:18082 | grep -E "Requests/sec|requests in|Non-2xx|bookings|p50"
kill %2 2>/dev/null || true

pgbin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
psql=("$pgbin/psql" -q -X -d "$SLOTSIM_TEST_POSTGRES_URL")
"${psql[@]}" -c "DROP TABLE IF EXISTS bench_sessions; CREATE TABLE bench_sessions (id int PRIMARY KEY, booked int NOT NULL, capacity int NOT NULL); INSERT INTO bench_sessions VALUES (1, 0, 100000000);"
echo 'UPDATE bench_sessions SET booked = booked + 1 WHERE id = 1 AND booked < capacity;' > "$work/book.sql"
echo "== pgbench baseline: one conditional UPDATE per transaction, 64 clients, ${seconds} s"
"$pgbin/pgbench" -n -c 64 -j 2 -T "$seconds" -f "$work/book.sql" "$SLOTSIM_TEST_POSTGRES_URL" 2>&1 | grep -E "tps|latency average|number of transactions actually"
