#!/usr/bin/env bash
# Side by side on the same generated instances: slotsim's BatchAllocator (deferred
# acceptance) vs the Python `matching` package at 100,000 registrants and OR-Tools'
# min-cost flow at 1,000,000. Checks that slotsim's matching equals `matching`'s (the
# stable matching is unique here) and prints the ratios of solve CPU time.
# Run from anywhere; takes a few minutes; not alongside another Swift build.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
bench="$(dirname "$here")"
data="$here/data"
mkdir -p "$data"

bash "$here/setup.sh"
PY="$here/.venv/bin/python"
swift build -c release --package-path "$bench" --product batch-peer
PEER="$(swift build -c release --package-path "$bench" --show-bin-path)/batch-peer"

[ -f "$data/peer100k.txt" ] || "$PEER" generate 100000 1000 5 100 100 "$data/peer100k.txt"
[ -f "$data/peer1m.txt" ] || "$PEER" generate 1000000 10000 5 100 1000 "$data/peer1m.txt"

ours100k=$("$PEER" solve "$data/peer100k.txt" --assignment "$data/peer100k.slotsim.out" --repeat 20)
echo "$ours100k"
theirs100k=$("$PY" "$here/matching_hr.py" "$data/peer100k.txt" --assignment "$data/peer100k.matching.out")
echo "$theirs100k"
cmp "$data/peer100k.slotsim.out" "$data/peer100k.matching.out" && echo "100k: slotsim's assignment is identical to matching's"
"$PY" "$here/check_stable.py" "$data/peer100k.txt" "$data/peer100k.slotsim.out"

ours1m=$("$PEER" solve "$data/peer1m.txt" --repeat 5)
echo "$ours1m"
theirs1m=$("$PY" "$here/ortools_mcf.py" "$data/peer1m.txt")
echo "$theirs1m"

"$PY" - "$ours100k" "$theirs100k" "$ours1m" "$theirs1m" <<'PYEOF'
import json, sys
o1, t1, o2, t2 = (json.loads(a) for a in sys.argv[1:])
print(f"100,000 registrants: matching {t1['solve_cpu_s']:.3f} s CPU / slotsim {o1['solve_cpu_s']*1000:.2f} ms CPU "
      f"= {t1['solve_cpu_s'] / o1['solve_cpu_s']:.0f}x  (target >= 1000x)")
print(f"1,000,000 registrants: OR-Tools min-cost flow {t2['solve_cpu_s']:.2f} s CPU / slotsim {o2['solve_cpu_s']*1000:.1f} ms CPU "
      f"= {t2['solve_cpu_s'] / o2['solve_cpu_s']:.0f}x  (different objective: min total rank, not stability)")
PYEOF
