#!/usr/bin/env bash
# slotsim's event engine and clinic model vs SimPy 4.1.2 on the same M/M/10 model
# (λ = 9/min, μ = 1/min, ρ = 0.9, 1,000,000 customers); prints customers per CPU-second
# and the ratio. Not alongside another Swift build.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
bench="$(dirname "$here")"
bash "$here/setup.sh"
swift build -c release --package-path "$bench" --product sim-peer
ours=$("$(swift build -c release --package-path "$bench" --show-bin-path)/sim-peer" --customers 1000000 --repeat 3)
echo "$ours"
theirs=$("$here/.venv/bin/python" "$here/simpy_mmc.py" --customers 1000000)
echo "$theirs"
"$here/.venv/bin/python" - "$ours" "$theirs" <<'PYEOF'
import json, sys
o, t = (json.loads(a) for a in sys.argv[1:])
print(f"M/M/10, 1,000,000 customers: slotsim {o['customers_per_cpu_s']/1e6:.2f} M customers/CPU-s, "
      f"SimPy {t['customers_per_cpu_s']/1e3:.1f} k customers/CPU-s = {o['customers_per_cpu_s'] / t['customers_per_cpu_s']:.0f}x "
      f"(targets: >= 5 M/s and >= 50x)")
print(f"mean wait: slotsim {o['mean_wait_min']:.4f} min, SimPy {t['mean_wait_min']:.4f} min, Erlang C {t['erlang_c_mean_wait_min']:.4f} min")
PYEOF
