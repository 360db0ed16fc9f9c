#!/usr/bin/env bash
# The main job, offline on the embedded defaults: check and compile every shipped spec, then run
# the Brain Fart Checker and the Market Research agent end to end on their replay cassettes, then
# start the hosted API on its embedded PostgreSQL, store, refuse and isolate specs through it, and
# run one of them there on its cassettes (a run with `curl`, its server-sent events).
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

echo
echo "== The hosted API: serve on the embedded PostgreSQL, two teams, one spec, one run (replayed) =="
py=.venv/bin/python
data=$(mktemp -d)
chmod 755 "$data"   # when run as root, the embedded PostgreSQL runs as another user
port=$($py -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
api="http://127.0.0.1:$port"
env -u DATABASE_URL -u DATABASE_APP_URL $af serve --port "$port" --data-dir "$data/af" \
  --replay specs/cassettes/market_research > "$data/serve.log" 2>&1 &
serve_pid=$!
stop_serve() { kill -INT "$serve_pid" 2>/dev/null && wait "$serve_pid" || true; rm -rf "$data"; }
trap stop_serve EXIT
for _ in $(seq 1 150); do
  curl -sf "$api/ready" >/dev/null && break
  kill -0 "$serve_pid" 2>/dev/null || { cat "$data/serve.log"; exit 1; }
  sleep 0.2
done
head -n 3 "$data/serve.log"
team_key() { env -u DATABASE_URL $af admin create-team "$1" --owner "$2" --data-dir "$data/af" --format json |
  $py -c 'import json, sys; print(json.load(sys.stdin)["key"])'; }
acme=$(team_key Acme ada@acme.example)
globex=$(team_key Globex hank@globex.example)
echo "teams Acme and Globex created (admin create-team), each with an owner key"
status=$(curl -s -o "$data/agent.json" -w '%{http_code}' -X POST "$api/v1/agents" -H "Authorization: Bearer $acme" \
  -H "Content-Type: text/markdown" --data-binary @specs/market_research.md)
echo "POST specs/market_research.md as Acme -> $status"
[ "$status" = 201 ] || { cat "$data/agent.json"; exit 1; }
$py - "$data/agent.json" <<'PY'
import json, sys
a = json.load(open(sys.argv[1]))
print(f"  {a['name']} v{a['version']} ({a['kind']}), inputs {a['inputs_schema']['required']}, "
      f"worst case ${a['cost_estimate']['usd_max']}")
PY
agent_id=$($py -c 'import json, sys; print(json.load(open(sys.argv[1]))["id"])' "$data/agent.json")
broken=$(sed 's/- query: str /- query: strng /' specs/market_research.md)
status=$(printf '%s\n' "$broken" | curl -s -o "$data/broken.json" -w '%{http_code}' -X POST "$api/v1/agents" \
  -H "Authorization: Bearer $acme" -H "Content-Type: text/markdown" --data-binary @-)
echo "POST a broken spec (query: strng) as Acme -> $status"
[ "$status" = 422 ] || { cat "$data/broken.json"; exit 1; }
$py - "$data/broken.json" <<'PY'
import json, sys
for d in json.load(open(sys.argv[1]))["detail"]:
    print(f"  {d['file']}:{d['line']}:{d['column']}: {d['severity']}[{d['code']}]: {d['message']} (help: {d['hint']})")
PY
status=$(curl -s -o "$data/other.json" -w '%{http_code}' "$api/v1/agents/$agent_id" -H "X-Api-Key: $globex")
echo "GET Acme's agent with Globex's key -> $status $(cat "$data/other.json")"
[ "$status" = 404 ] || exit 1
status=$(curl -s -o "$data/run.json" -w '%{http_code}' -X POST "$api/v1/agents/$agent_id/runs?wait=true" \
  -H "Authorization: Bearer $acme" -H "Content-Type: application/json" \
  -d '{"input": {"query": "What are the top three AI trends this year?"}}')
echo "POST a run of it as Acme, wait=true -> $status"
[ "$status" = 200 ] || { cat "$data/run.json"; exit 1; }
$py - "$data/run.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
print(f"  {r['status']}, ${r['cost_usd']}, {len(r['ledger'])} model calls ({r['ledger'][0]['outcome']}): {r['output']['answer']}")
PY
[ "$($py -c 'import json, sys; print(json.load(open(sys.argv[1]))["status"])' "$data/run.json")" = success ] || exit 1
run_id=$($py -c 'import json, sys; print(json.load(open(sys.argv[1]))["id"])' "$data/run.json")
echo "its events (GET /v1/runs/{id}/events, server-sent):"
curl -sN --max-time 10 "$api/v1/runs/$run_id/events" -H "Authorization: Bearer $acme" | tr -d '\r' | sed -n 's/^event: //p' | paste -sd' ' - | sed 's/^/  /'
stop_serve
trap - EXIT
echo "server stopped"
