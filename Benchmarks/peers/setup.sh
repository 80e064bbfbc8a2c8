#!/usr/bin/env bash
# Create the Python virtualenv used by the peer benchmarks (Benchmarks/peers/.venv)
# and install the pinned peer packages into it. Idempotent: if the venv already
# has exactly these versions, nothing is downloaded.
#
# Usage: bash Benchmarks/peers/setup.sh        (PYTHON=/path/to/python3 to override)
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
VENV="$HERE/.venv"
PYTHON="${PYTHON:-python3}"

# Pinned peer versions (keep in sync with README.md).
PKGS=(
  "matching==1.4.3"
  "ortools==9.15.6755"
  "numpy==2.4.6"
  "simpy==4.1.2"
)

if ! command -v "$PYTHON" >/dev/null 2>&1; then
  echo "setup.sh: '$PYTHON' not found; on Debian: apt-get install python3 python3-venv" >&2
  exit 1
fi

# Check that the venv module (and ensurepip, which Debian splits out) is usable.
if ! "$PYTHON" -c 'import venv, ensurepip' >/dev/null 2>&1; then
  echo "setup.sh: the Python venv module is missing for $PYTHON." >&2
  echo "  On Debian/Ubuntu install it with: apt-get install python3-venv" >&2
  echo "  (or the versioned package, e.g. python3.11-venv / python3.13-venv)" >&2
  exit 1
fi

VPY="$VENV/bin/python"

if [ -x "$VPY" ]; then
  # Already set up? Compare installed versions with the pins.
  if "$VPY" - "${PKGS[@]}" <<'PYEOF' >/dev/null 2>&1
import sys
from importlib.metadata import version
for spec in sys.argv[1:]:
    name, want = spec.split("==")
    if version(name) != want:
        sys.exit(1)
PYEOF
  then
    echo "setup.sh: $VENV already has ${PKGS[*]}; nothing to do."
    exit 0
  fi
  echo "setup.sh: $VENV exists but is missing/has other versions of some packages; updating."
else
  echo "setup.sh: creating virtualenv $VENV with $("$PYTHON" --version 2>&1)"
  "$PYTHON" -m venv "$VENV"
fi

echo "setup.sh: upgrading pip in the venv"
"$VPY" -m pip install --quiet --disable-pip-version-check --upgrade pip
echo "setup.sh: installing ${PKGS[*]}"
"$VPY" -m pip install --disable-pip-version-check "${PKGS[@]}"

echo "setup.sh: installed versions:"
"$VPY" - <<'PYEOF'
from importlib.metadata import version
for n in ("matching", "ortools", "numpy", "simpy"):
    print(f"  {n}=={version(n)}")
PYEOF
echo "setup.sh: done. Use $VPY to run the peer scripts."
