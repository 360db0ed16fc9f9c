"""Hosted runs through the native API: queued, taken by the in-process worker, streamed, cancelled,
on threads, with their version, ledger and guard results; another team sees none of it."""

from __future__ import annotations

import json
import threading
from dataclasses import replace
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient

from conftest import empty, make_team
from agent_factory.platform.app import create_app
from agent_factory.platform.worker.execute import SpecNoLongerChecks, configuration, spec_and_plan
from agent_factory.platform.worker.tasks import EVENT_BATCH_S
from hosted_runs import TWO_STEPS, agent, chat_and_values, ended, owner_sql, until


def test_a_run_with_wait_answers_with_outputs_ledger_and_the_version_it_ran(hosted):
    team = make_team(hosted, "Acme", "ada@acme.test")
    created = agent(hosted, team)
    response = hosted.post(f"/v1/agents/{created['id']}/runs?wait=true", json={"input": {"topic": "tea"}}, headers=team.auth)
    assert response.status_code == 200, response.text
    run = response.json()
    assert (run["status"], run["error"]) == ("success", None)
    assert run["output"] == {"text": "polished Polish rough tea"}
    assert (run["version"], run["spec_sha256"], run["attempt"]) == (1, created["spec_sha256"], 1)
    assert [(a["step"], a["alias"], a["tokens_in"], a["tokens_out"], a["cost"], a["outcome"]) for a in run["ledger"]] == [
        ("draft", "fast", 10, 5, "0.000020", "ok"), ("polish", "fast", 10, 5, "0.000020", "ok")]
    assert run["cost_usd"] == "0.000040"
    assert response.headers["Location"] == f"/v1/runs/{run['id']}"
    assert response.headers["RateLimit-Limit"] == "1000"
    assert hosted.get(f"/v1/runs/{run['id']}", headers=team.auth).json() == run  # the run as stored


def test_a_run_is_accepted_with_202_then_taken_by_the_worker(hosted):
    team = make_team(hosted, "Acme", "ada@acme.test")
    created = agent(hosted, team)
    response = hosted.post(f"/v1/agents/{created['id']}/runs", json={"input": {"topic": "milk"}}, headers=team.auth)
    assert response.status_code == 202, response.text
    assert response.json()["status"] in ("pending", "running")
    run = until(lambda: ended(hosted, team, response.json()["id"]))
    assert (run["status"], run["output"]) == ("success", {"text": "polished Polish rough milk"})


def test_the_event_stream_shows_steps_model_attempts_and_the_end(hosted, database):
    team = make_team(hosted, "Acme", "ada@acme.test")
    created = agent(hosted, team)
    run = hosted.post(f"/v1/agents/{created['id']}/runs", json={"input": {"topic": "tea"}}, headers=team.auth).json()
    with hosted.stream("GET", f"/v1/runs/{run['id']}/events", headers=team.auth) as response:
        assert response.headers["content-type"] == "text/event-stream; charset=utf-8"
        text = "".join(response.iter_text())
    rows = owner_sql(database, "SELECT seq, event, data FROM run_events WHERE run_id = %s ORDER BY seq", run["id"])
    assert [event for _, event, _ in rows] == ["run.start", "step.start", "llm", "step.end", "step.start", "llm",
                                               "step.end", "step.start", "guards", "step.end", "run.end"]
    assert rows[-1][2] == {"status": "success", "output": {"text": "polished Polish rough tea"}, "error": None,
                           "cost_usd": "0.000040"}
    # every stored event is one frame: its sequence number as the id, its name, its data as one-line JSON
    assert _frames(text) == [_frame(seq, event, data) for seq, event, data in rows]
    with hosted.stream("GET", f"/v1/runs/{run['id']}/events", headers={**team.auth, "Last-Event-ID": str(rows[-2][0])}) as again:
        rest = "".join(again.iter_text())
    assert _frames(rest) == [_frame(*rows[-1])]


def _frames(text: str) -> list[str]:
    """The SSE frames of a stream, heartbeats (comments) left out."""
    return [f for f in text.replace("\r\n", "\n").split("\n\n") if f.strip() and not f.startswith(":")]


def _frame(seq: int, event: str, data) -> str:
    return f"id: {seq}\nevent: {event}\ndata: {json.dumps(data, separators=(',', ':'))}"


def test_events_written_in_several_batches_keep_their_order_and_the_end_comes_last(hosted, script, database):
    team = make_team(hosted, "Acme", "ada@acme.test")
    created = agent(hosted, team)
    script.delay_s = 3 * EVENT_BATCH_S  # each step outlasts a batch: the events go in several transactions
    run = hosted.post(f"/v1/agents/{created['id']}/runs?wait=true", json={"input": {"topic": "tea"}}, headers=team.auth).json()
    assert run["status"] == "success"
    rows = owner_sql(database, "SELECT event, data->>'step', attempt FROM run_events WHERE run_id = %s ORDER BY seq", run["id"])
    assert rows == [("run.start", None, 1), ("step.start", "draft", 1), ("llm", "draft", 1), ("step.end", "draft", 1),
                    ("step.start", "polish", 1), ("llm", "polish", 1), ("step.end", "polish", 1),
                    ("step.start", "__guard__", 1), ("guards", None, 1), ("step.end", "__guard__", 1),
                    ("run.end", None, 1)]
    batches = owner_sql(database, "SELECT count(DISTINCT xmin::text) FROM run_events WHERE run_id = %s", run["id"])
    assert batches[0][0] >= 3


def test_inputs_that_do_not_fit_are_refused_before_anything_is_queued(hosted):
    team = make_team(hosted, "Acme", "ada@acme.test")
    created = agent(hosted, team)
    response = hosted.post(f"/v1/agents/{created['id']}/runs", json={"input": {"topik": "tea"}}, headers=team.auth)
    assert response.status_code == 422
    assert response.json() == {"error": "invalid_request",
                               "detail": "inputs do not match the spec (missing topic; unknown topik); it takes: topic"}
    assert hosted.get("/v1/runs", headers=team.auth).json() == []


def test_another_team_gets_404_for_the_run_its_events_and_cancel(hosted):
    acme, globex = make_team(hosted, "Acme", "ada@acme.test"), make_team(hosted, "Globex", "hank@globex.test")
    created = agent(hosted, acme)
    run = hosted.post(f"/v1/agents/{created['id']}/runs?wait=true", json={"input": {"topic": "tea"}}, headers=acme.auth).json()
    for method, path, detail in (("GET", f"/v1/runs/{run['id']}", "no such run"),
                                 ("GET", f"/v1/runs/{run['id']}/events", "no such run"),
                                 ("POST", f"/v1/runs/{run['id']}/cancel", "no such run"),
                                 ("POST", f"/v1/agents/{created['id']}/runs", "no such agent")):
        response = hosted.request(method, path, headers=globex.auth, json={"input": {"topic": "x"}} if "agents" in path else None)
        assert (response.status_code, response.json()) == (404, {"error": "not_found", "detail": detail}), f"{method} {path}"
    assert hosted.get("/v1/runs", headers=globex.auth).json() == []


def test_cancelling_a_running_run_interrupts_it_and_keeps_what_it_spent(hosted, script):
    team = make_team(hosted, "Acme", "ada@acme.test")
    created = agent(hosted, team)
    script.hold["polish"] = threading.Event()
    run = hosted.post(f"/v1/agents/{created['id']}/runs", json={"input": {"topic": "tea"}}, headers=team.auth).json()
    until(lambda: "polish" in script.seen)
    response = hosted.post(f"/v1/runs/{run['id']}/cancel", headers=team.auth)
    assert response.status_code == 202
    finished = until(lambda: ended(hosted, team, run["id"]))
    script.hold["polish"].set()
    assert (finished["status"], finished["error"], finished["output"]) == ("interrupted", "the run was cancelled", None)
    assert [a["step"] for a in finished["ledger"]] == ["draft"]


def test_a_queued_run_cancelled_before_it_starts_never_runs(hosted, database, script):
    team = make_team(hosted, "Acme", "ada@acme.test")
    created = agent(hosted, team)
    thread = hosted.post("/v1/threads", json={}, headers=team.auth).json()
    script.hold["draft"] = threading.Event()
    first = hosted.post(f"/v1/agents/{created['id']}/runs", json={"input": {"topic": "a"}, "thread_id": thread["id"]},
                        headers=team.auth).json()
    second = hosted.post(f"/v1/agents/{created['id']}/runs", json={"input": {"topic": "b"}, "thread_id": thread["id"]},
                         headers=team.auth).json()
    cancelled = hosted.post(f"/v1/runs/{second['id']}/cancel", headers=team.auth).json()
    assert cancelled["status"] == "interrupted"
    # given back at once: the month's run and its spend hold; the thread stays busy with the first run
    usage = "SELECT runs, spend_reserved_usd FROM team_usage WHERE team_id = %s"
    [(held,)] = owner_sql(database, "SELECT reserved_usd FROM runs WHERE id = %s", first["id"])
    assert held > 0 and owner_sql(database, usage, team.id) == [(1, held)]
    assert hosted.get(f"/v1/threads/{thread['id']}", headers=team.auth).json()["status"] == "busy"
    script.hold["draft"].set()
    assert until(lambda: ended(hosted, team, first["id"]))["status"] == "success"
    assert hosted.get(f"/v1/runs/{second['id']}", headers=team.auth).json()["attempt"] == 0
    assert hosted.get(f"/v1/threads/{thread['id']}", headers=team.auth).json()["status"] == "idle"
    assert owner_sql(database, usage, team.id) == [(1, Decimal(0))]


def test_runs_on_a_thread_share_its_state(hosted):
    team = make_team(hosted, "Acme", "ada@acme.test")
    created = agent(hosted, team)
    thread = hosted.post("/v1/threads", json={"metadata": {"user": "u1"}}, headers=team.auth)
    assert thread.status_code == 201
    thread_id = thread.json()["id"]
    for topic in ("tea", "coffee"):
        run = hosted.post(f"/v1/agents/{created['id']}/runs?wait=true",
                          json={"input": {"topic": topic}, "thread_id": thread_id}, headers=team.auth).json()
        assert run["status"] == "success", run
    state = hosted.get(f"/v1/threads/{thread_id}/state", headers=team.auth).json()
    assert state["status"] == "idle"
    assert chat_and_values(state["values"]) == (
        ["tea", "polished Polish rough tea", "coffee", "polished Polish rough coffee"],
        {"topic": "coffee", "rough": "rough coffee", "text": "polished Polish rough coffee"})
    assert state["checkpoint_id"]
    again = hosted.post(f"/v1/agents/{created['id']}/runs?wait=true", json={"thread_id": thread_id}, headers=team.auth).json()
    assert (again["status"], again["output"]) == ("success", {"text": "polished Polish rough coffee"})


def test_a_run_of_a_replaced_version_keeps_its_version(hosted, script):
    team = make_team(hosted, "Acme", "ada@acme.test")
    created = agent(hosted, team)
    script.hold["draft"] = threading.Event()
    run = hosted.post(f"/v1/agents/{created['id']}/runs", json={"input": {"topic": "tea"}}, headers=team.auth).json()
    replaced = hosted.put(f"/v1/agents/{created['id']}", json={"spec": TWO_STEPS.replace("Drafts, then", "Drafts and")},
                          headers=team.auth).json()
    assert replaced["version"] == 2
    script.hold["draft"].set()
    finished = until(lambda: ended(hosted, team, run["id"]))
    assert (finished["status"], finished["version"], finished["spec_sha256"]) == ("success", 1, created["spec_sha256"])


PYTHON_BOUND = """
# Agent: Dumper

## Purpose
Calls a Python function.

## Inputs
- topic: str — anything

## Outputs
- text: str — what the function returned

## Tools
- dump — serialise a value (python: json:dumps)

## Workflow
### call
- tool: dump
- args: obj = topic
- outputs: text

### Flow
- START → call
- call → END
"""


def test_a_hosted_run_never_runs_a_python_binding_the_operator_did_not_allow(hosted):
    team = make_team(hosted, "Acme", "ada@acme.test")
    created = agent(hosted, team, PYTHON_BOUND)
    run = hosted.post(f"/v1/agents/{created['id']}/runs?wait=true", json={"input": {"topic": "tea"}}, headers=team.auth).json()
    assert (run["status"], run["output"], run["ledger"]) == ("error", None, [])
    assert run["error"] == ("step 'call' (spec.md:17): tool 'dump' failed: python binding 'json:dumps' is not allowed: it "
                            "runs code with your permissions; add 'json' to [tools] allow_python in agent-factory.toml "
                            "to let it run")


def test_a_queued_run_whose_spec_no_longer_checks_fails_at_once_and_gives_its_run_back(hosted, database, script):
    team = make_team(hosted, "Acme", "ada@acme.test")
    created = agent(hosted, team)
    thread = hosted.post("/v1/threads", json={}, headers=team.auth).json()
    script.hold["polish"] = threading.Event()
    first = hosted.post(f"/v1/agents/{created['id']}/runs", json={"input": {"topic": "tea"}, "thread_id": thread["id"]},
                        headers=team.auth).json()
    until(lambda: "polish" in script.seen)
    queued = hosted.post(f"/v1/agents/{created['id']}/runs", json={"input": {"topic": "milk"}, "thread_id": thread["id"]},
                         headers=team.auth).json()
    # while it waits for the thread, its version stops checking (as after an upgrade of the server's compiler)
    owner_sql(database, "UPDATE agent_versions SET spec_text = replace(spec_text, 'Draft {topic}', 'Draft {subject}') "
                        "WHERE agent_id = %s", created["id"])
    script.hold.pop("polish").set()
    assert until(lambda: ended(hosted, team, first["id"]))["status"] == "success"
    run = until(lambda: ended(hosted, team, queued["id"]))
    error = ("the stored spec no longer checks clean on this server; store a new version:\n"
             "spec.md:17:17: error[E305]: `{subject}` in the prompt of `draft` is not an input or an output of an earlier step")
    assert (run["status"], run["error"], run["error_type"], run["attempt"], run["ledger"]) == (
        "error", error, "SpecError", 1, [])
    assert owner_sql(database, "SELECT status FROM procrastinate_jobs WHERE args->>'run_id' = %s", queued["id"]) == [
        ("succeeded",)]  # ended by its first job attempt, not retried
    assert owner_sql(database, "SELECT event, data->>'error' FROM run_events WHERE run_id = %s ORDER BY seq", queued["id"]) == [
        ("run.start", None), ("run.end", error)]
    # the first run is counted and paid; the failed one gave its run and its hold back
    assert owner_sql(database, "SELECT runs, spend_reserved_usd, spend_usd FROM team_usage WHERE team_id = %s", team.id) == [
        (1, Decimal(0), Decimal("0.000040"))]
    assert hosted.get(f"/v1/threads/{thread['id']}", headers=team.auth).json()["status"] == "error"


def test_starting_a_run_of_a_version_that_no_longer_checks_is_answered_422_with_its_errors(hosted, database):
    team = make_team(hosted, "Acme", "ada@acme.test")
    created = agent(hosted, team)
    # the stored version stops checking (as after an upgrade of the server's compiler); its SHA-256
    # follows the text, so no earlier check of the old text is reused
    owner_sql(database, "UPDATE agent_versions SET spec_text = replace(spec_text, 'Draft {topic}', 'Draft {subject}') "
                        "WHERE agent_id = %s", created["id"])
    owner_sql(database, "UPDATE agent_versions SET spec_sha256 = encode(sha256(convert_to(spec_text, 'UTF8')), 'hex') "
                        "WHERE agent_id = %s", created["id"])
    body = {"error": "spec_no_longer_checks", "detail": (
        "the stored spec no longer checks clean on this server; store a new version:\n"
        "spec.md:17:17: error[E305]: `{subject}` in the prompt of `draft` is not an input or an output of an earlier step")}
    native = hosted.post(f"/v1/agents/{created['id']}/runs", json={"input": {"topic": "tea"}}, headers=team.auth)
    langgraph = hosted.post("/runs/wait", json={"assistant_id": created["id"], "input": {"topic": "tea"}},
                            headers={"x-api-key": team.key})
    assert [(native.status_code, native.json()), (langgraph.status_code, langgraph.json())] == [(422, body)] * 2
    assert owner_sql(database, "SELECT count(*) FROM runs") == [(0,)]
    assert owner_sql(database, "SELECT coalesce(sum(runs), 0) FROM team_usage WHERE team_id = %s", team.id) == [(0,)]


def test_a_configuration_that_no_longer_loads_fails_the_check_without_naming_its_path(tmp_path):
    config = tmp_path / "agent-factory.toml"
    config.write_text("[router\n", encoding="utf-8")
    with pytest.raises(SpecNoLongerChecks) as caught:
        spec_and_plan(TWO_STEPS, config)
    assert str(caught.value) == ("the server's configuration does not load; tell its operator: agent-factory.toml: "
                                 "invalid TOML: Expected ']' at the end of a table declaration (at line 1, column 8)")


def test_the_servers_configuration_is_parsed_once_per_version_of_its_file(tmp_path):
    config = tmp_path / "agent-factory.toml"
    model = '[models.fast]\nmodel = "openai/fast-model"\n\n'
    config.write_text(model + '[router]\nfallback = []\n\n[tools]\ntimeout_s = 5\n', encoding="utf-8")
    first = configuration(config)
    assert configuration(config) is first
    assert (first[0].router.cooldown_seconds, first[1].timeout_s) == (60, 5.0)  # 60 s: the router default
    config.write_text(model + '[router]\nfallback = []\ncooldown_seconds = 7\n', encoding="utf-8")
    edited = configuration(config)
    assert (edited[0].router.cooldown_seconds, edited[1].timeout_s) == (7, 20.0)  # 20 s: the [tools] default
    config.write_text("[router\n", encoding="utf-8")
    with pytest.raises(SpecNoLongerChecks) as caught:
        configuration(config)
    assert str(caught.value) == ("the server's configuration does not load; tell its operator: agent-factory.toml: "
                                 "invalid TOML: Expected ']' at the end of a table declaration (at line 1, column 8)")


def test_a_run_whose_attempts_are_used_up_ends_in_error_and_frees_its_thread(hosted, database, runs_settings):
    from uuid import UUID

    from agent_factory.platform.worker.tasks import run_job
    from hosted_runs import owner_sql

    team = make_team(hosted, "Acme", "ada@acme.test")
    created = agent(hosted, team)
    thread = hosted.post("/v1/threads", json={}, headers=team.auth).json()
    run = hosted.post(f"/v1/agents/{created['id']}/runs?wait=true", json={"input": {"topic": "tea"}, "thread_id": thread["id"]},
                      headers=team.auth).json()
    # as if three workers had died holding it: still `running`, its thread busy, no attempt left
    owner_sql(database, "UPDATE runs SET status = 'running', attempt = 3 WHERE id = %s", run["id"])
    owner_sql(database, "UPDATE threads SET status = 'busy' WHERE id = %s", thread["id"])
    hosted.portal.call(run_job, hosted.app.state.pool, runs_settings, UUID(run["id"]), UUID(team.id))
    finished = hosted.get(f"/v1/runs/{run['id']}", headers=team.auth).json()
    assert (finished["status"], finished["error"], finished["error_type"]) == ("error", "the run's worker stopped 3 times", "WorkerLost")
    assert hosted.get(f"/v1/threads/{thread['id']}", headers=team.auth).json()["status"] == "error"


def test_a_stale_attempt_cannot_overwrite_the_attempt_that_replaced_it(hosted, database):
    from uuid import UUID

    from agent_factory.platform.db.tenant import tenant_transaction
    from agent_factory.platform.runs import repository
    from hosted_runs import owner_sql

    team = make_team(hosted, "Acme", "ada@acme.test")
    created = agent(hosted, team)
    run = hosted.post(f"/v1/agents/{created['id']}/runs?wait=true", json={"input": {"topic": "tea"}}, headers=team.auth).json()
    owner_sql(database, "UPDATE runs SET status = 'running', attempt = 2 WHERE id = %s", run["id"])

    async def stale_writes():
        async with tenant_transaction(hosted.app.state.pool, UUID(team.id)) as conn:
            return (await repository.heartbeat(conn, UUID(run["id"]), 1),
                    await repository.add_events(conn, UUID(team.id), UUID(run["id"]), 1, [("llm", {"cost": "9"})]),
                    await repository.finish(conn, UUID(team.id), UUID(run["id"]), 1, "success", {"text": "stale"}, {}, None,
                                            None, [], [], 0, False, [("run.end", {"status": "success"})]))

    assert hosted.portal.call(stale_writes) == (None, 0, None)
    assert owner_sql(database, "SELECT status, attempt, output FROM runs WHERE id = %s", run["id"]) == [
        ("running", 2, {"text": "polished Polish rough tea"})]
    owner_sql(database, "UPDATE runs SET status = 'success' WHERE id = %s", run["id"])  # no worker holds it really


def test_leaving_the_event_stream_does_not_stop_the_run(hosted, script, database):
    team = make_team(hosted, "Acme", "ada@acme.test")
    created = agent(hosted, team)
    script.hold["polish"] = threading.Event()
    run = hosted.post(f"/v1/agents/{created['id']}/runs", json={"input": {"topic": "tea"}}, headers=team.auth).json()
    with hosted.stream("GET", f"/v1/runs/{run['id']}/events", headers=team.auth) as response:
        lines = iter(response.iter_lines())
        first = [next(lines), next(lines)]  # the first event's id and name; then the client leaves
    (seq,), = owner_sql(database, "SELECT seq FROM run_events WHERE run_id = %s AND event = 'run.start'", run["id"])
    assert first == [f"id: {seq}", "event: run.start"]
    until(lambda: "polish" in script.seen)
    script.hold["polish"].set()
    assert until(lambda: ended(hosted, team, run["id"]))["status"] == "success"


def test_on_a_busy_thread_reject_answers_409_and_interrupt_replaces_the_run_in_flight(hosted, script):
    team = make_team(hosted, "Acme", "ada@acme.test")
    created = agent(hosted, team)
    thread = hosted.post("/v1/threads", json={}, headers=team.auth).json()
    script.hold["polish"] = threading.Event()
    body = {"input": {"topic": "tea"}, "thread_id": thread["id"]}
    first = hosted.post(f"/v1/agents/{created['id']}/runs", json=body, headers=team.auth).json()
    until(lambda: "polish" in script.seen)
    refused = hosted.post(f"/v1/agents/{created['id']}/runs", json={**body, "multitask_strategy": "reject"}, headers=team.auth)
    assert refused.status_code == 409
    assert refused.json()["detail"] == ("Thread is already running a task. Wait for it to finish or choose a different "
                                        "multitask strategy.")
    second = hosted.post(f"/v1/agents/{created['id']}/runs",
                         json={**body, "input": {"topic": "milk"}, "multitask_strategy": "interrupt"}, headers=team.auth)
    assert second.status_code == 202, second.text
    interrupted = until(lambda: ended(hosted, team, first["id"]))
    assert (interrupted["status"], interrupted["error"]) == ("interrupted", "the run was cancelled")
    script.hold.pop("polish").set()
    replaced = until(lambda: ended(hosted, team, second.json()["id"]))
    assert (replaced["status"], replaced["output"]) == ("success", {"text": "polished Polish rough milk"})


def test_a_run_stopped_by_the_time_limit_is_charged_for_the_calls_it_made(runs_settings, database, script):
    # a queue of its own, so only this app's worker (with a 1 s limit) takes the run
    settings = replace(runs_settings, runs=replace(runs_settings.runs, queue="timeouts", timeout_s=1.0))
    script.hold["polish"] = threading.Event()  # the second step outlasts the limit
    try:
        with TestClient(create_app(settings), raise_server_exceptions=False) as client:
            empty(database.owner)
            team = make_team(client, "Acme", "ada@acme.test")
            created = agent(client, team)
            run = client.post(f"/v1/agents/{created['id']}/runs?wait=true", json={"input": {"topic": "tea"}},
                              headers=team.auth).json()
    finally:
        script.reset()
    assert (run["status"], run["cost_usd"]) == ("timeout", "0.000020")
    assert [(a["step"], a["tokens_in"], a["tokens_out"], a["cost"]) for a in run["ledger"]] == [("draft", 10, 5, "0.000020")]
    assert owner_sql(database, "SELECT spend_usd, spend_reserved_usd FROM team_usage WHERE team_id = %s", team.id) == [
        (Decimal("0.000020"), Decimal(0))]
