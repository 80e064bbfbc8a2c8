#!/usr/bin/env bash
# Fuzzes `slotsim serve` against docs/openapi.yaml with schemathesis:
#   scripts/fuzz-api.sh SLOTSIM_BINARY          e.g. scripts/fuzz-api.sh .build/debug/slotsim
# Starts the server on scenarios/quickstart.yaml on a free port with a fresh data directory
# and key, one partner key with every scope (sent with every request, so the partner, staff
# and admin endpoints are fuzzed past their key check) and per-address and per-token limits
# too high to be reached, logs in through the OTP outbox for a bearer token, runs
# schemathesis on every operation (examples, coverage, fuzzing and stateful phases; positive
# and negative data), then stops the server. The checks: no 5xx, and every response as
# documented (status code, content type, body schema, headers); FUZZ_CHECKS overrides them.
# Exits non-zero if schemathesis reports a failure or an error, if the server dies, or if it
# logged an unexpected error.
# FUZZ_EXAMPLES (default 200) bounds the test cases per operation and phase (about
# 1.5 minutes); FUZZ_SEED repeats a run (its seed is printed at the end); FUZZ_VENV names
# the venv (default .venv-fuzz, set up from PyPI on the first run with a pinned schemathesis).
# schemathesis keeps a cache of the failures it finds in .schemathesis/ (git ignores it).
set -euo pipefail
if [ $# -lt 1 ] || [ ! -x "$1" ]; then
  echo "usage: $0 SLOTSIM_BINARY   (e.g. $0 .build/debug/slotsim after swift build)" >&2
  exit 2
fi
binary=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
cd "$(dirname "$0")/.."
venv=${FUZZ_VENV:-.venv-fuzz}
version=4.32.5
examples=${FUZZ_EXAMPLES:-200}

if ! "$venv/bin/st" --version 2>/dev/null | grep -qF "version $version"; then
  echo "fuzz: setting up $venv (schemathesis $version from PyPI)"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$version"
fi

work=$(mktemp -d)
server=
cleanup() {
  if [ -n "$server" ] && kill -0 "$server" 2>/dev/null; then
    kill "$server"
    wait "$server" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

head -c 32 /dev/urandom > "$work/key"
# One partner key with every scope, sent with every request, so that the partner, staff and
# admin endpoints are fuzzed past their key check too.
made=$("$binary" partner-key --name fuzz --scopes public book checkin admin --all-centers --quota 1000000)
apikey=$(echo "$made" | head -n 1 | awk '{print $NF}')
echo "{\"partners\": [$(echo "$made" | sed -n 3p)]}" > "$work/partners.json"
"$binary" serve --scenario scenarios/quickstart.yaml --port 0 --data-dir "$work/data" --key-file "$work/key" \
  --otp-outbox "$work/otp.jsonl" --rate-limit 1000000/60 --token-rate-limit 100000 --partners "$work/partners.json" \
  > "$work/server.out" 2> "$work/server.err" &
server=$!
port=
for _ in $(seq 1 300); do
  port=$(grep -o 'listening on http://127.0.0.1:[0-9]*' "$work/server.out" 2>/dev/null | grep -o '[0-9]*$' || true)
  [ -n "$port" ] && break
  if ! kill -0 "$server" 2>/dev/null; then
    echo "fuzz: the server did not start:" >&2
    cat "$work/server.err" >&2
    exit 1
  fi
  sleep 0.1
done
if [ -z "$port" ]; then
  echo "fuzz: the server did not say its port within 30 s" >&2
  exit 1
fi
api=http://127.0.0.1:$port/api
echo "fuzz: slotsim serve on $api (data in $work)"

# Log in: generateOTP, the code from the outbox, confirmOTP with its SHA-256.
token=$("$venv/bin/python" - "$api" "$work/otp.jsonl" <<'EOF'
import hashlib, json, sys, urllib.request
api, outbox = sys.argv[1], sys.argv[2]
def post(path, body):
    request = urllib.request.Request(api + path, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.load(response)
txn = post("/v2/auth/public/generateOTP", {"mobile": "9876543210"})["txnId"]
otp = next(line["otp"] for line in map(json.loads, open(outbox)) if line["txnId"] == txn)
print(post("/v2/auth/public/confirmOTP", {"txnId": txn, "otp": hashlib.sha256(otp.encode()).hexdigest()})["token"])
EOF
)

status=0
start=$SECONDS
"$venv/bin/st" run docs/openapi.yaml --url "$api" --header "Authorization: Bearer $token" --header "x-api-key: $apikey" \
  --checks "${FUZZ_CHECKS:-not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance,response_headers_conformance}" --max-examples "$examples" --request-timeout 10 --output-sanitize false \
  ${FUZZ_SEED:+--seed "$FUZZ_SEED"} || status=$?
echo "fuzz: schemathesis took $((SECONDS - start)) s and exited with $status"

if ! kill -0 "$server" 2>/dev/null; then
  echo "fuzz: the server died during the run:" >&2
  tail -n 50 "$work/server.err" >&2
  status=1
elif grep -q 'unexpected error' "$work/server.err"; then
  echo "fuzz: the server logged unexpected errors:" >&2
  grep 'unexpected error' "$work/server.err" | head -n 20 >&2
  status=1
fi
[ "$status" -eq 0 ] && echo "fuzz: no server errors"
exit "$status"
