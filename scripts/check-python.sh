#!/usr/bin/env bash
# The checks `make test` runs in Python before `swift test`:
#  1. every bundled scenario against scenarios/schema.json (jsonschema);
#  2. a CSV export of scenarios/quickstart.yaml loads in pandas, with doses conserved.
# Packages go into .venv-checks (PyPI); a second run reuses it.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=.venv-checks
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c 'import jsonschema, yaml, pandas' 2>/dev/null; then
  echo "checks: setting up $venv (jsonschema, pyyaml, pandas from PyPI)"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check jsonschema pyyaml pandas
fi
echo "checks: bundled scenarios against scenarios/schema.json"
"$venv/bin/python" scripts/check-schema.py
echo "checks: a CSV export in pandas"
swift build --product slotsim
export_dir=$(mktemp -d)/quickstart
"$(swift build --show-bin-path)/slotsim" run scenarios/quickstart.yaml --replications 2 --set campaign.days=7 --out "$export_dir" >/dev/null
"$venv/bin/python" scripts/check-export.py "$export_dir"
rm -rf "$(dirname "$export_dir")"
