#!/usr/bin/env bash
# The main job, offline on the embedded defaults: check and compile every shipped spec, then run
# the Brain Fart Checker and the Market Research agent end to end on their replay cassettes.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
af=.venv/bin/agent-factory
$af check specs/
$af compile specs/ --target ir -o out/ir
$af compile specs/ --target langgraph -o out/langgraph
$af compile specs/webhook_signer.md --target openhands -o out/openhands
echo
echo "== Brain Fart Checker: \"A to-do list app with reminders\" (replayed) =="
$af run specs/brain_fart_checker.md --input '{"idea": "A to-do list app with reminders"}' \
  --replay specs/cassettes/brain_fart_checker
echo
echo "== Market Research Agent (replayed) =="
$af run specs/market_research.md --input "What are the top three AI trends this year?" \
  --replay specs/cassettes/market_research
echo
echo "== The specs' own examples, offline =="
$af test specs/brain_fart_checker.md specs/market_research.md
