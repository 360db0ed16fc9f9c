"""Replay mode: a server started with cassettes answers every model call from them, so hosted runs
need no network and no model (demos, tests); a request the cassettes lack fails the run clearly."""

from __future__ import annotations

import asyncio
import json
import re
from dataclasses import replace
from pathlib import Path

from fastapi.testclient import TestClient

from agent_factory.platform.app import create_app
from agent_factory.platform.settings import RunSettings
from agent_factory.platform.worker.execute import spec_and_plan
from agent_factory.runtime.executor import arun_spec
from conftest import empty, make_team
from hosted_runs import TWO_STEPS, agent

ROOT = Path(__file__).resolve().parents[2]
QUEUE = "replay-test"  # a queue of its own: only this test's worker (which replays) takes its runs


def test_a_server_in_replay_mode_runs_from_cassettes_without_calling_the_model(runs_settings, database, stub, script,
                                                                               tmp_path):
    spec, _ = spec_and_plan(TWO_STEPS, runs_settings.config_path)
    recorded = asyncio.run(arun_spec(spec, {"topic": "oolong"}, config=runs_settings.config_path, record=tmp_path))
    assert recorded.ok, recorded.error
    script.reset()
    stub.clear()
    replaying = replace(runs_settings, runs=RunSettings(worker_concurrency=1, queue=QUEUE, replay_dir=tmp_path))
    with TestClient(create_app(replaying), raise_server_exceptions=False) as client:
        empty(database.owner)
        team = make_team(client, "Acme", "ada@acme.test")
        created = agent(client, team)
        run = client.post(f"/v1/agents/{created['id']}/runs?wait=true", json={"input": {"topic": "oolong"}},
                          headers=team.auth).json()
        missed = client.post(f"/v1/agents/{created['id']}/runs?wait=true", json={"input": {"topic": "milk"}},
                             headers=team.auth).json()
    assert (run["status"], run["output"]) == ("success", {"text": "polished Polish rough oolong"})
    assert [(a["step"], a["outcome"]) for a in run["ledger"]] == [("draft", "replayed"), ("polish", "replayed")]
    # nothing of these runs reached the model (other tests' runs may use it meanwhile)
    assert [r for r in stub.requests if "oolong" in json.dumps(r)] == []
    # the miss names the cassette folder as the server's, never by its path on the server
    assert missed["status"] == "error" and str(tmp_path) not in missed["error"]
    lines = missed["error"].splitlines()
    assert re.fullmatch(r"replay miss at step 'draft': no cassette for request key [0-9a-f]{16} in the server's cassettes",
                        lines[0]), lines[0]
    (cassette,) = [p.name for p in tmp_path.rglob("draft-*.json")]
    assert f"nearest cassette: {cassette} (step 'draft', key {cassette[6:-5]}); differences:" in lines


def test_the_shipped_cassettes_answer_hosted_runs_of_the_shipped_spec(runs_settings, database, stub):
    # the hosted API runs a spec under its own constitution, whose rules are in the system prompt:
    # the shipped cassettes hold those requests too (tests/runtime/cassette_data.py records both)
    cassettes = ROOT / "specs" / "cassettes" / "market_research"
    replaying = replace(runs_settings, runs=RunSettings(worker_concurrency=1, queue=QUEUE, replay_dir=cassettes))
    with TestClient(create_app(replaying), raise_server_exceptions=False) as client:
        empty(database.owner)
        team = make_team(client, "Acme", "ada@acme.test")
        created = client.post("/v1/agents", content=(ROOT / "specs" / "market_research.md").read_bytes(),
                              headers={**team.auth, "Content-Type": "text/markdown"}).json()
        run = client.post(f"/v1/agents/{created['id']}/runs?wait=true",
                          json={"input": {"query": "What are the top three AI trends this year?"}}, headers=team.auth).json()
    assert (run["status"], run["error"]) == ("success", None)
    assert run["output"] == {"answer": ("The top three: AI agents that plan and use tools, smaller efficient open models, "
                                        "and new AI regulation shaping deployments."),
                             "sources": ["https://example.com/ai/trends-report"], "confidence": 0.7}
    assert [(a["step"], a["outcome"]) for a in run["ledger"]] == [("agent", "replayed"), ("agent", "replayed")]
    assert [r for r in stub.requests if "AI trends" in json.dumps(r)] == []
