#!/usr/bin/env bash
# The whole test suite (installs what it needs into .venv first).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh test,openhands
# the example third-party plugin, installed so its entry point is exercised for real
if [ ! -f .venv/.installed-example-plugin ] || [ tests/example_plugin/pyproject.toml -nt .venv/.installed-example-plugin ]; then
  .venv/bin/python -m pip install --quiet -e tests/example_plugin
  touch .venv/.installed-example-plugin
fi
exec .venv/bin/python -m pytest -n 2 -q "$@"
