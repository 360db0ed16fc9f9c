"""The queued half of a rollback (runs/rollback.py) against the states a run's worker can leave it
in: the deletion waits while the run's job is still worked on, and a run whose worker died after
its last attempt is settled, then deleted with what it wrote."""

from __future__ import annotations

import threading
from dataclasses import replace
from uuid import UUID

import pytest

from agent_factory.platform.auth import Principal
from agent_factory.platform.runs import service as runs
from agent_factory.platform.runs.rollback import StillRunning, rollback_job
from conftest import make_team
from hosted_runs import agent, ended, owner_sql, until


def test_the_deletion_waits_while_the_runs_job_is_still_worked_on(hosted, script):
    team = make_team(hosted, "Acme", "ada@acme.test")
    created = agent(hosted, team)
    script.hold["polish"] = threading.Event()
    run = hosted.post(f"/v1/agents/{created['id']}/runs", json={"input": {"topic": "tea"}}, headers=team.auth).json()
    until(lambda: "polish" in script.seen)
    with pytest.raises(StillRunning) as waiting:
        hosted.portal.call(rollback_job, hosted.app.state.pool, UUID(run["id"]), UUID(team.id), None, None)
    assert str(waiting.value) == f"run {run['id']} has not stopped yet"
    script.hold.pop("polish").set()
    assert until(lambda: ended(hosted, team, run["id"]))["status"] == "success"


def test_a_run_its_worker_left_running_is_settled_then_deleted_with_its_checkpoints(hosted, database, runs_settings):
    team = make_team(hosted, "Acme", "ada@acme.test")
    created = agent(hosted, team)
    thread = hosted.post("/v1/threads", json={}, headers=team.auth).json()
    principal = Principal(UUID(team.id), None, frozenset({"runs:write"}))
    nobody = replace(runs_settings, runs=replace(runs_settings.runs, queue="no-worker-listens"))
    new = runs.NewRun(UUID(created["id"]), {"topic": "tea"}, UUID(thread["id"]))
    limits = {"plan": "free", "runs_per_month": None, "spend_ceiling_usd": None}
    run = hosted.portal.call(runs.create, hosted.app.state.pool, principal, nobody, new, limits)
    # as the queue leaves it when the worker of its last attempt died: running, its job given up
    owner_sql(database, "UPDATE runs SET status = 'running', attempt = 1, base_checkpoint = '' WHERE id = %s", run["id"])
    owner_sql(database, "UPDATE procrastinate_jobs SET status = 'failed' WHERE id = %s", run["job_id"])
    owner_sql(database, "INSERT INTO checkpoints (thread_id, checkpoint_id, checkpoint, team_id) VALUES (%s, %s, '{}', %s)",
              thread["id"], "1f0-written-by-the-dead-attempt", team.id)
    held = owner_sql(database, "SELECT runs, spend_reserved_usd FROM team_usage WHERE team_id = %s", team.id)
    assert held == [(1, run["reserved_usd"])]
    hosted.portal.call(rollback_job, hosted.app.state.pool, run["id"], UUID(team.id), None, None)
    assert owner_sql(database, "SELECT count(*) FROM runs WHERE id = %s", run["id"]) == [(0,)]
    assert owner_sql(database, "SELECT count(*) FROM checkpoints WHERE thread_id = %s", thread["id"]) == [(0,)]
    # its hold is given back; the run stays counted (its worker may have called a model)
    assert owner_sql(database, "SELECT runs, spend_reserved_usd, spend_usd FROM team_usage WHERE team_id = %s",
                     team.id) == [(1, 0, 0)]
    assert owner_sql(database, "SELECT actor_user, target, detail->>'status', detail->>'cost_usd' FROM audit_log"
                               " WHERE action = 'run.rollback'") == [(None, f"run:{run['id']}", "running", "0.000000")]
    assert hosted.get(f"/v1/threads/{thread['id']}", headers=team.auth).json()["status"] == "idle"
