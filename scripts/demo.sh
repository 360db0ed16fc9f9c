#!/usr/bin/env bash
# The main job: check and compile the shipped specs (offline, embedded defaults).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/agent-factory check specs/
.venv/bin/agent-factory compile specs/ --target ir -o out/ir
