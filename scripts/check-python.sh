#!/usr/bin/env bash
# The checks `make test` runs in Python before `swift test`:
#  1. every bundled scenario against scenarios/schema.json (jsonschema);
#  2. a CSV export of scenarios/quickstart.yaml loads in pandas, with doses conserved;
#  3. the analysis notebook (notebooks-export/analysis.ipynb) runs on that export, every cell;
#  4. an HTML report renders in headless Chromium;
#  5. slotsim serve, fuzzed from docs/openapi.yaml with schemathesis: never a 5xx, and every
#     response as documented (status, content type, body schema, headers).
# Packages go into .venv-checks (PyPI): jsonschema, pyyaml and notebooks-export/requirements.txt
# (pinned). A second run reuses the venv; it is set up again if an import fails or the
# requirements changed since (a copy of the file installed last is kept in the venv).
set -euo pipefail
cd "$(dirname "$0")/.."
venv=.venv-checks
requirements=notebooks-export/requirements.txt
if [ ! -x "$venv/bin/python" ] \
    || ! "$venv/bin/python" -c 'import jsonschema, yaml, pandas, matplotlib, scipy, nbformat, nbclient, ipykernel' 2>/dev/null \
    || ! cmp -s "$requirements" "$venv/requirements.txt"; then
  echo "checks: setting up $venv (jsonschema, pyyaml and $requirements from PyPI)"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check jsonschema pyyaml -r "$requirements"
  cp "$requirements" "$venv/requirements.txt"
fi
echo "checks: bundled scenarios against scenarios/schema.json"
"$venv/bin/python" scripts/check-schema.py
echo "checks: a CSV export in pandas"
swift build --product slotsim
export_dir=$(mktemp -d)/quickstart
"$(swift build --show-bin-path)/slotsim" run scenarios/quickstart.yaml --replications 2 --set campaign.days=7 --out "$export_dir" >/dev/null
"$venv/bin/python" scripts/check-export.py "$export_dir"
# The notebook's kernel is the venv's Python: run-notebook.py writes a kernelspec for the
# Python that runs it, so no `ipykernel install` is needed (and none elsewhere is used).
# The executed notebook goes beside the export: kept if a check fails, removed with it if not.
echo "checks: the analysis notebook on that export"
"$venv/bin/python" scripts/run-notebook.py "$export_dir" --keep "$(dirname "$export_dir")/analysis.executed.ipynb"
rm -rf "$(dirname "$export_dir")"
echo "checks: an HTML report in headless Chromium"
report_dir=$(mktemp -d)
"$(swift build --show-bin-path)/slotsim" run scenarios/quickstart.yaml --replications 2 --set campaign.days=7 --report "$report_dir/report.html" >/dev/null
if command -v chromium >/dev/null; then
  python3 scripts/check-report.py "$report_dir/report.html" "$report_dir/report.png"
elif [ "${CI:-}" = true ]; then
  echo "checks: chromium is missing (make test installs it as root: apt-get install -y chromium)" >&2
  exit 1
else
  echo "checks: skipped rendering the report: chromium is not installed (sudo apt-get install -y chromium)"
fi
rm -rf "$report_dir"
echo "checks: the booking server fuzzed from docs/openapi.yaml (schemathesis; no 5xx, every response as documented)"
FUZZ_EXAMPLES=${FUZZ_EXAMPLES:-60} bash scripts/fuzz-api.sh "$(swift build --show-bin-path)/slotsim"
