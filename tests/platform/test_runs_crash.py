"""A worker process killed in the middle of a run: another worker takes the run over from its
last checkpoint, the run succeeds, and the model call of the step that had finished is neither
made nor charged again."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from dataclasses import replace

from fastapi.testclient import TestClient

from agent_factory.platform.app import create_app
from agent_factory.platform.settings import RunSettings
from conftest import empty, make_team
from hosted_runs import agent, ended, owner_sql, until

QUEUE = "crash-test"  # a queue of its own: only the worker processes started here take its runs


def start_worker(database, config) -> subprocess.Popen:
    env = {**os.environ, "DATABASE_URL": database.owner, "DATABASE_APP_URL": database.app}
    command = [sys.executable, "-c", "from agent_factory.cli import main; main()", "worker", "--queue", QUEUE,
               "--stalled-after", "6", "--config", str(config)]
    return subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def test_a_run_whose_worker_is_killed_resumes_on_another_worker_without_paying_twice(runs_settings, database, script):
    settings = replace(runs_settings, runs=RunSettings(queue=QUEUE))
    workers = []
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        empty(database.owner)
        script.reset()
        team = make_team(client, "Acme", "ada@acme.test")
        created = agent(client, team)
        script.hold["polish"] = threading.Event()
        try:
            workers.append(start_worker(database, settings.config_path))
            run = client.post(f"/v1/agents/{created['id']}/runs", json={"input": {"topic": "tea"}}, headers=team.auth).json()
            until(lambda: "polish" in script.seen, timeout=60)  # the first worker is in the second step
            until(lambda: owner_sql(database, "SELECT 1 FROM run_events WHERE run_id = %s AND event = 'llm'", run["id"]))
            os.kill(workers[0].pid, signal.SIGKILL)
            workers[0].wait(10)
            script.hold.pop("polish").set()
            workers.append(start_worker(database, settings.config_path))
            finished = until(lambda: ended(client, team, run["id"]), timeout=60)
        finally:
            for worker in workers:
                worker.kill()
                worker.wait(10)
    assert (finished["status"], finished["output"], finished["attempt"]) == ("success", {"text": "polished Polish rough tea"}, 2)
    assert [(a["step"], a["cost"]) for a in finished["ledger"]] == [("draft", "0.000020"), ("polish", "0.000020")]
    assert finished["cost_usd"] == "0.000040"
    assert script.seen.count("draft") == 1 and script.seen.count("polish") == 2  # the killed call, then the resumed one
