#!/usr/bin/env bash
# Create .venv with Python 3.12 and install the project with the given extras (idempotent).
set -euo pipefail
cd "$(dirname "$0")/.."
extras="${1:-}"
python_bin="${PYTHON:-}"
if [ -z "$python_bin" ]; then
  for candidate in python3.12 python3; do
    if command -v "$candidate" >/dev/null 2>&1 && "$candidate" -c 'import sys; sys.exit(sys.version_info[:2] < (3, 12))' 2>/dev/null; then
      python_bin="$candidate"; break
    fi
  done
fi
if [ -z "$python_bin" ]; then
  echo "error: Python 3.12 or newer is needed (pyenv install 3.12, or set PYTHON=/path/to/python3.12)" >&2
  exit 2
fi
if [ ! -x .venv/bin/python ]; then
  "$python_bin" -m venv .venv
fi
stamp=".venv/.installed${extras:+-$extras}"
if [ -z "$extras" ]; then
  # any install with extras includes the plain one
  for other in .venv/.installed*; do
    if [ -f "$other" ] && [ "$other" -nt pyproject.toml ]; then stamp="$other"; break; fi
  done
fi
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  .venv/bin/python -m pip install --quiet --upgrade pip >/dev/null
  .venv/bin/python -m pip install --quiet -e ".${extras:+[$extras]}"
  touch "$stamp"
fi
