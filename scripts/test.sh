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
# LangGraph's own server (langgraph-cli's in-memory one) for tests/interop, in a virtualenv of its
# own: langgraph-api is Elastic-2.0 (a test tool, never a product dependency) and pins
# jsonschema-rs, which the main environment's test tools cannot share
if [ ! -f .venv-langgraph/.installed ] || [ pyproject.toml -nt .venv-langgraph/.installed ]; then
  "$(.venv/bin/python -c 'import sys; print(sys._base_executable)')" -m venv .venv-langgraph
  .venv-langgraph/bin/python -m pip install --quiet --upgrade pip >/dev/null
  .venv-langgraph/bin/python -m pip install --quiet -e ".[langgraph-dev]"
  touch .venv-langgraph/.installed
fi
exec .venv/bin/python -m pytest -n 2 -q "$@"
