#!/usr/bin/env bash
# The whole test suite (installs what it needs into .venv first).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh test
exec .venv/bin/python -m pytest -n 2 -q "$@"
