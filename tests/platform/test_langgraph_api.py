"""LangGraph's own client (`langgraph_sdk`) and `RemoteGraph` against the app served by uvicorn on
127.0.0.1, with the stub LLM: assistants, threads, streamed and waited runs, state; a second
team's key gets 404 for every id of the first team; no key gets 401 on every route."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import replace
from decimal import Decimal
from uuid import uuid4

import httpx
import pytest
from langgraph_sdk import get_sync_client
from langgraph_sdk.errors import ConflictError, NotFoundError, UnprocessableEntityError

from agent_factory.platform.app import create_app
from agent_factory.platform.settings import RunSettings
from agent_factory.testing.specs import CALC
from conftest import LiveServer, make_team
from hosted_runs import agent, chat_and_values, owner_sql, settle, until


@pytest.fixture(scope="session")
def live(runs_settings) -> Iterator[LiveServer]:
    settings = replace(runs_settings, runs=replace(runs_settings.runs, worker_concurrency=2))
    with LiveServer(create_app(settings)) as server:
        yield server


@pytest.fixture
def team_agent(client, live, script, database):
    """A team with the two-step agent (on the platform's test client), and the live server."""
    script.reset()
    team = make_team(client, "Acme", "ada@acme.test")
    yield team, agent(client, team)
    settle(database, script)


def test_the_client_lists_assistants_streams_a_run_on_a_thread_and_reads_its_state(live, team_agent):
    team, created = team_agent
    lg = get_sync_client(url=live.url, api_key=team.key)
    assistants = lg.assistants.search()
    assert [(a["assistant_id"], a["graph_id"], a["version"]) for a in assistants] == [(created["id"], "two_steps", 1)]
    schemas = lg.assistants.get_schemas("two_steps")
    assert schemas["input_schema"]["required"] == ["topic"]
    assert list(schemas["output_schema"]["properties"]) == ["text"]
    graph = lg.assistants.get_graph(created["id"])
    assert ("draft", "polish") in {(e["source"], e["target"]) for e in graph["edges"]}
    thread = lg.threads.create(metadata={"user": "u1"})
    parts = list(lg.runs.stream(thread["thread_id"], "two_steps", input={"topic": "tea"}, stream_mode=["values", "updates"]))
    assert [p.event for p in parts] == ["metadata", "updates", "updates", "values"]
    assert parts[0].data["thread_id"] == thread["thread_id"]
    assert [list(p.data) for p in parts[1:3]] == [["draft"], ["polish"]]
    assert chat_and_values(parts[-1].data) == (
        ["tea", "polished Polish rough tea"], {"topic": "tea", "rough": "rough tea", "text": "polished Polish rough tea"})
    state = lg.threads.get_state(thread["thread_id"])
    assert state["values"] == parts[-1].data and state["checkpoint"]["checkpoint_id"]
    assert lg.threads.get(thread["thread_id"])["status"] == "idle"
    runs = lg.runs.list(thread["thread_id"])
    assert [(r["status"], r["assistant_id"]) for r in runs] == [("success", created["id"])]


def test_wait_join_and_thread_less_runs_answer_the_final_values(live, team_agent):
    team, _ = team_agent
    lg = get_sync_client(url=live.url, api_key=team.key)
    assert chat_and_values(lg.runs.wait(None, "two_steps", input={"topic": "milk"}))[1] == {
        "topic": "milk", "rough": "rough milk", "text": "polished Polish rough milk"}
    thread = lg.threads.create()
    run = lg.runs.create(thread["thread_id"], "two_steps", input={"topic": "jam"})
    assert run["status"] in ("pending", "running")
    assert lg.runs.join(thread["thread_id"], run["run_id"])["text"] == "polished Polish rough jam"
    assert lg.runs.get(thread["thread_id"], run["run_id"])["status"] == "success"


def test_a_failed_run_reaches_the_client_as_an_error(live, team_agent, script):
    team, _ = team_agent
    script.fail.add("polish")
    lg = get_sync_client(url=live.url, api_key=team.key)
    with pytest.raises(Exception) as raised:
        lg.runs.wait(None, "two_steps", input={"topic": "tea"})
    assert str(raised.value) == ("AllModelsFailed: step 'polish': all models failed (1 attempts)\n"
                                 "  - fast (openai/fast-model): error: litellm.InternalServerError: InternalServerError: "
                                 "OpenAIException - polish is down")


def test_remote_graph_invokes_the_hosted_agent(live, team_agent):
    from langgraph.pregel.remote import RemoteGraph

    team, _ = team_agent
    remote = RemoteGraph("two_steps", url=live.url, api_key=team.key)
    assert chat_and_values(remote.invoke({"topic": "tea"})) == (
        ["tea", "polished Polish rough tea"], {"topic": "tea", "rough": "rough tea", "text": "polished Polish rough tea"})


NOT_FOUND = {"error": "not_found", "detail": "Thread or assistant not found."}


def _refusal(call) -> httpx.Response:
    """The error answer `call` raised, its body read (the client reads a stream's body too)."""
    with pytest.raises(httpx.HTTPStatusError) as raised:
        call()
    response = raised.value.response
    response.read()
    return response


def _refused(call) -> tuple[int, dict]:
    """The status and body of the error `call` raised."""
    response = _refusal(call)
    return response.status_code, response.json()


def test_a_second_teams_key_gets_404_for_every_id_of_the_first(live, team_agent, client):
    team, created = team_agent
    mine = get_sync_client(url=live.url, api_key=team.key)
    thread = mine.threads.create()
    run = mine.runs.create(thread["thread_id"], created["id"], input={"topic": "tea"})
    mine.runs.join(thread["thread_id"], run["run_id"])
    other_key = make_team(client, "Globex", "hank@globex.test").key
    other = get_sync_client(url=live.url, api_key=other_key)
    tid, rid, aid = thread["thread_id"], run["run_id"], created["id"]
    no_thread = (404, {"error": "not_found", "detail": "no such thread"})
    no_run = (404, {"error": "not_found", "detail": "no such run"})
    calls = [(lambda: other.assistants.get(aid), (404, NOT_FOUND)), (lambda: other.assistants.get("two_steps"), (404, NOT_FOUND)),
             (lambda: other.assistants.get_schemas(aid), (404, NOT_FOUND)), (lambda: other.assistants.get_graph(aid), (404, NOT_FOUND)),
             (lambda: other.threads.get(tid), no_thread), (lambda: other.threads.get_state(tid), no_thread),
             (lambda: other.threads.get_history(tid), no_thread), (lambda: other.runs.get(tid, rid), no_run),
             (lambda: other.runs.list(tid), no_thread), (lambda: other.threads.delete(tid), no_thread),
             (lambda: other.runs.create(tid, "two_steps", input={"topic": "x"}), no_thread),
             (lambda: list(other.runs.stream(tid, aid, input={"topic": "x"})), no_thread),
             (lambda: list(other.runs.join_stream(tid, rid)), no_run),
             (lambda: other.runs.create(None, aid, input={"topic": "x"}), (404, NOT_FOUND)),
             (lambda: other.runs.join(tid, rid), no_run), (lambda: other.runs.wait(tid, aid, input={"topic": "x"}), no_thread),
             # the client ignores the answer of cancel: ask over HTTP
             (lambda: httpx.post(f"{live.url}/threads/{tid}/runs/{rid}/cancel", headers={"x-api-key": other_key}).raise_for_status(),
              no_run)]
    assert [_refused(call) for call, _ in calls] == [answer for _, answer in calls]
    assert other.assistants.search() == [] and other.threads.search() == []
    assert mine.threads.get(tid)["status"] == "idle"


def test_another_teams_assistant_in_a_run_body_is_not_found_and_nothing_is_queued(live, team_agent, client, database):
    team, created = team_agent
    aid = created["id"]
    globex = make_team(client, "Globex", "hank@globex.test")
    agent(client, globex)  # its own `two_steps`: the graph id is the same, the assistant is not
    other = get_sync_client(url=live.url, api_key=globex.key)
    own = other.threads.create()["thread_id"]
    calls = [lambda: other.runs.create(None, aid, input={"topic": "x"}),
             lambda: other.runs.wait(None, aid, input={"topic": "x"}),
             lambda: list(other.runs.stream(None, aid, input={"topic": "x"})),
             lambda: other.runs.create(own, aid, input={"topic": "x"}),
             lambda: other.runs.wait(own, aid, input={"topic": "x"}),
             lambda: list(other.runs.stream(own, aid, input={"topic": "x"}))]
    assert [_refused(call) for call in calls] == [(404, NOT_FOUND)] * len(calls)
    assert other.runs.list(own) == [] and other.threads.get(own)["status"] == "idle"
    assert owner_sql(database, "SELECT count(*) FROM runs") == [(0,)]
    assert owner_sql(database, "SELECT count(*) FROM team_usage") == [(0,)]


def test_past_the_rate_limit_langgraph_runs_get_429_before_their_thread_or_assistant_is_read(
        runs_settings, team_agent, database):
    team, created = team_agent
    # no worker of its own: the session's live server runs the accepted runs
    settings = replace(runs_settings, runs=replace(runs_settings.runs, worker_concurrency=0, rate_limits={"free": "3/minute"}))
    with LiveServer(create_app(settings)) as limited:
        lg = get_sync_client(url=limited.url, api_key=team.key)
        tid = lg.threads.create()["thread_id"]
        run = {"assistant_id": "two_steps", "input": {"topic": "tea"}}
        accepted = httpx.post(f"{limited.url}/threads/{tid}/runs", json=run, headers={"x-api-key": team.key})
        with httpx.stream("POST", f"{limited.url}/runs/stream", json=run, headers={"x-api-key": team.key}) as streamed:
            stream_headers = streamed.headers
        lg.runs.create(None, created["id"], input={"topic": "tea"})
        # past the rate, a request is refused before its thread, assistant or inputs are read
        calls = [lambda: lg.runs.create(tid, "two_steps", input={"topic": "tea"}),
                 lambda: lg.runs.create(str(uuid4()), "two_steps", input={"topic": "tea"}),
                 lambda: lg.runs.wait(None, "no_such_graph", input={"topic": "tea"}),
                 lambda: lg.runs.wait(None, "two_steps", input={"topik": "tea"}),
                 lambda: list(lg.runs.stream(None, str(uuid4()), input={"topic": "tea"}))]
        refusals = [_refusal(call) for call in calls]
    # an accepted start carries the same headers, counting down
    assert accepted.status_code == 200
    assert [[headers[h] for h in ("RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Policy")]
            for headers in (accepted.headers, stream_headers)] == [["3", "2", "3;w=60"], ["3", "1", "3;w=60"]]
    assert all(1 <= int(headers["RateLimit-Reset"]) <= 60 for headers in (accepted.headers, stream_headers))
    for refused in refusals:
        retry = refused.headers["Retry-After"]
        assert 1 <= int(retry) <= 60
        assert (refused.status_code, refused.json()) == (429, {
            "error": "rate_limited", "detail": f"rate limit of the `free` plan reached (3 runs per 60 s); retry in {retry} s"})
        assert [refused.headers[h] for h in ("RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Policy")] == ["3", "0", "3;w=60"]
    assert owner_sql(database, "SELECT count(*) FROM runs") == [(3,)]
    assert owner_sql(database, "SELECT runs FROM team_usage WHERE team_id = %s", team.id) == [(3,)]


def test_searches_filtering_by_another_teams_ids_and_metadata_find_nothing_of_theirs(live, team_agent, client):
    team, created = team_agent
    mine = get_sync_client(url=live.url, api_key=team.key)
    tid = mine.threads.create(metadata={"owner": "acme"})["thread_id"]
    mine.runs.wait(tid, "two_steps", input={"topic": "tea"})
    globex = make_team(client, "Globex", "hank@globex.test")
    own_agent = agent(client, globex)  # the same spec: the same graph id, name and spec SHA-256
    other = get_sync_client(url=live.url, api_key=globex.key)
    found = [other.assistants.search(graph_id="two_steps"), other.assistants.search(name="Two Steps"),
             other.assistants.search(metadata={"spec_sha256": created["spec_sha256"]})]
    assert [[a["assistant_id"] for a in page] for page in found] == [[own_agent["id"]]] * 3
    assert other.threads.search(ids=[tid]) == []
    assert other.threads.search(metadata={"owner": "acme"}) == []
    assert other.threads.search(values={"topic": "tea"}) == []
    assert other.threads.search(status="idle") == []


def test_creating_a_thread_with_another_teams_thread_id_answers_as_for_an_unused_id(live, team_agent, client, database):
    team, _ = team_agent
    mine = get_sync_client(url=live.url, api_key=team.key)
    tid = mine.threads.create()["thread_id"]
    other = get_sync_client(url=live.url, api_key=make_team(client, "Globex", "hank@globex.test").key)
    answers = [_refused(lambda: other.threads.create(thread_id=thread_id, if_exists=if_exists))
               for thread_id in (tid, str(uuid4())) for if_exists in ("raise", "do_nothing")]
    assert answers == [(404, {"error": "not_found", "detail": "no such thread"})] * 4
    assert other.threads.search() == []
    assert owner_sql(database, "SELECT id::text, team_id::text FROM threads") == [(tid, team.id)]


def test_a_run_or_state_read_naming_another_teams_thread_or_checkpoint_in_its_body_stays_on_its_own(
        live, team_agent, client, database):
    """`config.configurable.thread_id` and `checkpoint.thread_id` are never read: a run goes on the
    thread in its path (or a thread of its own), so it starts empty and leaves the other team's
    thread as it was; a `checkpoint_id` of theirs is refused exactly like any other id."""
    team, _ = team_agent
    mine = get_sync_client(url=live.url, api_key=team.key)
    tid = mine.threads.create()["thread_id"]
    mine.runs.wait(tid, "two_steps", input={"topic": "tea"})
    state, kept = mine.threads.get_state(tid), _checkpoints(database, tid)
    cid = state["checkpoint"]["checkpoint_id"]
    globex = make_team(client, "Globex", "hank@globex.test")
    agent(client, globex)
    other = get_sync_client(url=live.url, api_key=globex.key)
    own = other.threads.create()["thread_id"]
    aimed = {"config": {"configurable": {"thread_id": tid, "checkpoint_id": cid}}}
    on_thread = other.runs.wait(own, "two_steps", input={"topic": "jam"}, checkpoint={"thread_id": tid, "checkpoint_ns": ""},
                                **aimed)
    thread_less = other.runs.wait(None, "two_steps", input={"topic": "oat"}, **aimed)
    streamed = list(other.runs.stream(None, "two_steps", input={"topic": "rye"}, **aimed))
    assert [chat_and_values(values) for values in (on_thread, thread_less, streamed[-1].data)] == [
        (["jam", "polished Polish rough jam"], {"topic": "jam", "rough": "rough jam", "text": "polished Polish rough jam"}),
        (["oat", "polished Polish rough oat"], {"topic": "oat", "rough": "rough oat", "text": "polished Polish rough oat"}),
        (["rye", "polished Polish rough rye"], {"topic": "rye", "rough": "rough rye", "text": "polished Polish rough rye"})]
    assert streamed[0].data["thread_id"] is None
    assert other.threads.get_state(own)["values"] == on_thread
    newer = other.threads.update_state(own, {"topic": "milk"}, checkpoint={"thread_id": tid, "checkpoint_ns": ""})
    assert newer["checkpoint"]["thread_id"] == own
    assert other.threads.get_state(own, checkpoint={"thread_id": tid, "checkpoint_ns": ""}) == other.threads.get_state(own)
    history = other.threads.get_history(own)
    assert [h["checkpoint"]["thread_id"] for h in history] == [own]
    assert other.threads.get_history(own, checkpoint={"thread_id": tid, "checkpoint_ns": ""}) == history
    refusals = [(lambda: other.runs.create(own, "two_steps", input={"topic": "x"}, checkpoint_id=cid),
                 "a run always continues from the thread's newest checkpoint; `checkpoint_id` (running from an earlier "
                 "one) is not supported"),
                (lambda: other.runs.create(own, "two_steps", input={"topic": "x"},
                                           checkpoint={"thread_id": tid, "checkpoint_ns": "", "checkpoint_id": cid}),
                 "a run always continues from the thread's newest checkpoint; `checkpoint_id` (running from an earlier "
                 "one) is not supported"),
                (lambda: other.threads.get_state(own, checkpoint_id=cid),
                 "only the thread's newest checkpoint can be read (`checkpoint_id` names another one); "
                 "see the thread's history for the states its runs left"),
                (lambda: other.threads.update_state(own, {"topic": "x"}, checkpoint_id=cid),
                 "only the thread's newest checkpoint can be updated (`checkpoint_id` names another one)")]
    assert [_refused(call) for call, _ in refusals] == [
        (422, {"error": "invalid_request", "detail": detail}) for _, detail in refusals]
    # their thread is as it was: the same checkpoints (all of them its team's), state, runs and status
    assert _checkpoints(database, tid) == kept
    assert owner_sql(database, "SELECT DISTINCT team_id::text FROM checkpoints WHERE thread_id = %s", tid) == [(team.id,)]
    assert mine.threads.get_state(tid) == state
    assert [(r["status"], r["run_id"]) for r in mine.runs.list(tid)] == [
        ("success", owner_sql(database, "SELECT id::text FROM runs WHERE thread_id = %s", tid)[0][0])]
    assert mine.threads.get(tid)["status"] == "idle"


def test_every_route_without_a_key_answers_401(live):
    paths = httpx.get(f"{live.url}/openapi.json").json()["paths"]
    open_routes = {"/info", "/health", "/ready", "/v1/sessions", "/openapi.json"}
    checked = 0
    for path, methods in paths.items():
        if path in open_routes:
            continue
        for method in methods:
            url = live.url + path.replace("{", "").replace("}", "")
            response = httpx.request(method.upper(), url, json={"assistant_id": "x"})
            assert response.status_code == 401, f"{method.upper()} {path}: {response.status_code} {response.text}"
            checked += 1
    assert checked >= 40
    assert httpx.get(f"{live.url}/info").json()["flags"] == {"assistants": True, "crons": False, "langsmith": False}


def _checkpoints(database, thread_id: str) -> list[str]:
    return [r[0] for r in owner_sql(database, "SELECT checkpoint_id FROM checkpoints WHERE thread_id = %s"
                                              " ORDER BY checkpoint_id", thread_id)]


def _orphan_blobs(database, thread_id: str) -> int:
    """Channel values of the thread no checkpoint refers to (a rollback leaves none)."""
    return owner_sql(database, """SELECT count(*) FROM checkpoint_blobs b WHERE b.thread_id = %s AND NOT EXISTS (
        SELECT 1 FROM checkpoints c WHERE c.thread_id = b.thread_id
           AND c.checkpoint -> 'channel_versions' ->> b.channel = b.version)""", thread_id)[0][0]


def _gone(lg, thread_id: str, run_id: str) -> bool:
    try:
        lg.runs.get(thread_id, run_id)
    except NotFoundError:
        return True
    return False


def _first_run_then_one_held(lg, script, database, thread_id: str) -> tuple[str, dict, list[str]]:
    """A finished run on the thread, then a second one held in its `polish` step (its `draft` step
    checkpointed and paid for); returns the held run's id, the values and checkpoints before it."""
    lg.runs.wait(thread_id, "two_steps", input={"topic": "tea"})
    before = lg.threads.get_state(thread_id)
    kept = _checkpoints(database, thread_id)
    assert kept[-1] == before["checkpoint"]["checkpoint_id"]
    script.hold["polish"] = threading.Event()
    held = lg.runs.create(thread_id, "two_steps", input={"topic": "milk"})
    until(lambda: script.seen.count("polish") == 2)
    return held["run_id"], before["values"], kept


def test_rollback_strategy_deletes_the_runs_in_flight_and_their_checkpoints(live, team_agent, script, database):
    team, _ = team_agent
    lg = get_sync_client(url=live.url, api_key=team.key)
    tid = lg.threads.create()["thread_id"]
    held, values_before, kept = _first_run_then_one_held(lg, script, database, tid)
    written_by_held = set(_checkpoints(database, tid)[len(kept):])
    assert written_by_held
    queued = lg.runs.create(tid, "two_steps", input={"topic": "jam"})["run_id"]  # enqueued behind the held one
    assert lg.runs.get(tid, queued)["status"] == "pending"
    newest = lg.runs.create(tid, "two_steps", input={"topic": "oat"}, multitask_strategy="rollback")["run_id"]
    assert _gone(lg, tid, queued)  # it never started: deleted at once
    until(lambda: _gone(lg, tid, held), 30)
    script.hold.pop("polish").set()
    final = lg.runs.join(tid, newest)
    assert chat_and_values(final)[1] == {"topic": "oat", "rough": "rough oat", "text": "polished Polish rough oat"}
    runs = lg.runs.list(tid)
    assert [(r["status"], r["multitask_strategy"]) for r in runs] == [("success", "rollback"), ("success", "enqueue")]
    assert runs[0]["run_id"] == newest
    assert owner_sql(database, "SELECT base_checkpoint FROM runs WHERE id = %s", newest) == [(kept[-1],)]
    after = _checkpoints(database, tid)
    assert after[:len(kept)] == kept and not written_by_held & set(after) and _orphan_blobs(database, tid) == 0
    assert lg.threads.get(tid)["status"] == "idle"
    # the held run's draft was paid for: its cost stays in the team's usage, and the audit log says so
    audit = owner_sql(database, "SELECT target, detail->>'status', detail->>'cost_usd', detail->>'model_calls'"
                                " FROM audit_log WHERE action = 'run.rollback' ORDER BY id")
    assert audit == [(f"run:{queued}", "interrupted", "0.000000", "0"), (f"run:{held}", "interrupted", "0.000020", "1")]
    assert owner_sql(database, "SELECT runs, spend_usd FROM team_usage WHERE team_id = %s", team.id) == [
        (3, Decimal("0.000100"))]


def test_cancel_with_rollback_puts_the_thread_back_as_it_was(live, team_agent, script, database):
    team, _ = team_agent
    lg = get_sync_client(url=live.url, api_key=team.key)
    tid = lg.threads.create()["thread_id"]
    held, values_before, kept = _first_run_then_one_held(lg, script, database, tid)
    assert lg.runs.cancel(tid, held, wait=True, action="rollback") is None
    assert _gone(lg, tid, held)
    script.hold.pop("polish").set()
    state = lg.threads.get_state(tid)
    assert (state["values"], state["checkpoint"]["checkpoint_id"]) == (values_before, kept[-1])
    assert _checkpoints(database, tid) == kept and _orphan_blobs(database, tid) == 0
    thread = lg.threads.get(tid)
    assert (thread["status"], thread["values"]) == ("idle", values_before)
    ended = lg.runs.list(tid)[0]["run_id"]
    with pytest.raises(ConflictError) as refused:
        lg.runs.cancel(tid, ended, action="rollback")
    assert refused.value.response.json() == {
        "error": "conflict", "detail": "the run has ended (success); only a pending or running run can be rolled back"}
    # the thread goes on from the state before the rolled-back run
    assert lg.runs.wait(tid, "two_steps", input={"topic": "jam"})["text"] == "polished Polish rough jam"


def test_searches_filter_sort_page_and_select_as_the_client_asks(live, team_agent, client):
    team, created = team_agent
    calc = agent(client, team, CALC)
    lg = get_sync_client(url=live.url, api_key=team.key)
    sha = created["spec_sha256"]
    assert [a["graph_id"] for a in lg.assistants.search(metadata={"spec_sha256": sha})] == ["two_steps"]
    assert lg.assistants.search(metadata={"spec_sha256": "0" * 64}) == []
    assert [a["graph_id"] for a in lg.assistants.search(sort_by="name", sort_order="desc")] == ["two_steps", "calc"]
    assert lg.assistants.search(select=["graph_id", "version"]) == [{"graph_id": "two_steps", "version": 1},
                                                                   {"graph_id": "calc", "version": 1}]
    first = lg.assistants.search(limit=1, response_format="object")
    assert ([a["assistant_id"] for a in first["assistants"]], first["next"]) == ([created["id"]], "1")
    last = lg.assistants.search(limit=1, offset=1, response_format="object")
    assert ([a["assistant_id"] for a in last["assistants"]], last["next"]) == ([calc["id"]], None)

    one = lg.threads.create(metadata={"user": "u1"})["thread_id"]
    two = lg.threads.create(metadata={"user": "u2"})["thread_id"]
    lg.runs.wait(one, "two_steps", input={"topic": "tea"})
    assert [t["thread_id"] for t in lg.threads.search(metadata={"user": "u1"})] == [one]
    assert [t["thread_id"] for t in lg.threads.search(values={"topic": "tea"})] == [one]
    assert [t["thread_id"] for t in lg.threads.search(ids=[two, "not-an-id"])] == [two]
    assert [t["thread_id"] for t in lg.threads.search()] == [two, one]
    assert [t["thread_id"] for t in lg.threads.search(sort_by="created_at", sort_order="asc")] == [one, two]
    assert lg.threads.search(ids=[one], select=["thread_id", "status"]) == [{"thread_id": one, "status": "idle"}]
    with pytest.raises(UnprocessableEntityError) as refused:
        lg.threads.search(extract={"topic": "values.topic"})
    assert refused.value.response.json()["detail"] == "`extract` is not supported by this server; read the thread's `values`"

    assert [r["status"] for r in lg.runs.list(one, status="success")] == ["success"]
    assert lg.runs.list(one, status="error") == []
    assert [list(r) for r in lg.runs.list(one, select=["run_id", "status"])] == [["run_id", "status"]]


def test_run_options_this_server_does_not_implement_are_refused_not_ignored(live, team_agent):
    team, _ = team_agent
    lg = get_sync_client(url=live.url, api_key=team.key)
    tid = lg.threads.create()["thread_id"]
    lg.runs.wait(tid, "two_steps", input={"topic": "tea"})
    newest = lg.threads.get_state(tid)["checkpoint"]["checkpoint_id"]
    refused = {
        "a run always continues from the thread's newest checkpoint; `checkpoint_id` (running from an earlier one) "
        "is not supported": dict(checkpoint_id=newest),
        "`after_seconds` (delayed runs) is not supported; runs start as soon as a worker is free": dict(after_seconds=5),
        "assistants of this server take no `context`; pass the agent's inputs in `input`": dict(context={"user": "u1"}),
        "webhooks are not supported by this server": dict(webhook="http://127.0.0.1:9/hook"),
        "`command` (resume, goto, update) is not supported by this server": dict(command={"resume": "yes"}),
        "interrupt_before / interrupt_after are not supported by this server": dict(interrupt_before=["polish"]),
        "stream_mode `events` is not supported by this server; use values, updates, messages-tuple, custom": dict(
            stream_mode=["values", "events"]),
    }
    for detail, options in refused.items():
        with pytest.raises(UnprocessableEntityError) as raised:
            lg.runs.create(tid, "two_steps", input={"topic": "jam"}, **options)
        assert raised.value.response.json() == {"error": "invalid_request", "detail": detail}, options
    assert lg.runs.list(tid, limit=100)[0]["status"] == "success" and len(lg.runs.list(tid, limit=100)) == 1
    # the state at a checkpoint: the newest one is served, another one is refused
    assert lg.threads.get_state(tid, checkpoint_id=newest) == lg.threads.get_state(tid)
    assert lg.threads.get_state(tid, checkpoint={"thread_id": tid, "checkpoint_ns": ""}) == lg.threads.get_state(tid)
    with pytest.raises(UnprocessableEntityError) as raised:
        lg.threads.get_state(tid, checkpoint={"thread_id": tid, "checkpoint_ns": "", "checkpoint_id": "1f0-older"})
    assert raised.value.response.json()["detail"] == (
        "only the thread's newest checkpoint can be read (`checkpoint_id` names another one); "
        "see the thread's history for the states its runs left")


def test_messages_tuple_streams_the_answer_once_the_guards_passed(live, team_agent):
    team, _ = team_agent
    lg = get_sync_client(url=live.url, api_key=team.key)
    tid = lg.threads.create()["thread_id"]
    parts = list(lg.runs.stream(tid, "two_steps", input={"topic": "tea"}, stream_mode=["messages-tuple", "custom"]))
    assert [p.event for p in parts] == ["metadata", "messages"]
    message, meta = parts[1].data
    assert (message["type"], message["content"]) == ("ai", "polished Polish rough tea")
    assert meta == {"run_id": parts[0].data["run_id"], "thread_id": tid, "langgraph_node": "__guard__"}


def test_history_lists_the_state_each_run_left_newest_first(live, team_agent, database):
    team, _ = team_agent
    lg = get_sync_client(url=live.url, api_key=team.key)
    tid = lg.threads.create()["thread_id"]
    lg.runs.wait(tid, "two_steps", input={"topic": "tea"})
    lg.runs.wait(tid, "two_steps", input={"topic": "jam"})
    history = lg.threads.get_history(tid)
    assert [(h["values"]["topic"], h["values"]["text"]) for h in history] == [
        ("jam", "polished Polish rough jam"), ("tea", "polished Polish rough tea")]
    assert history[0] == lg.threads.get_state(tid)
    second_start = owner_sql(database, "SELECT base_checkpoint FROM runs WHERE thread_id = %s ORDER BY created_at",
                             tid)[1][0]
    assert history[1]["checkpoint"] == {"thread_id": tid, "checkpoint_ns": "", "checkpoint_id": second_start,
                                        "checkpoint_map": None}
    assert history[1]["parent_checkpoint"]["checkpoint_id"] < second_start < history[0]["checkpoint"]["checkpoint_id"]
    assert lg.threads.get_history(tid, limit=1) == history[:1]
    assert lg.threads.get_history(tid, before=history[0]["checkpoint"]) == history[1:]
    assert lg.threads.get_history(tid, before=second_start) == []
    assert lg.threads.get_history(tid, checkpoint={"checkpoint_id": second_start}) == history[1:]
    assert lg.threads.get_history(tid, metadata=history[1]["metadata"]) == history[1:]


def test_update_state_writes_the_new_newest_checkpoint_the_thread_then_shows(live, team_agent, database):
    team, _ = team_agent
    lg = get_sync_client(url=live.url, api_key=team.key)
    tid = lg.threads.create()["thread_id"]
    lg.runs.wait(tid, "two_steps", input={"topic": "tea"})
    before = lg.threads.get_state(tid)
    answer = lg.threads.update_state(tid, {"text": "edited by hand"}, as_node="polish")
    written = answer["checkpoint"]["checkpoint_id"]
    assert answer == {"checkpoint": {"thread_id": tid, "checkpoint_ns": "", "checkpoint_id": written}}
    assert written > before["checkpoint"]["checkpoint_id"] and _checkpoints(database, tid)[-1] == written
    state = lg.threads.get_state(tid)
    assert state["values"] == {**before["values"], "text": "edited by hand"}
    assert (state["checkpoint"]["checkpoint_id"], state["metadata"]["source"]) == (written, "update")
    assert state["parent_checkpoint"]["checkpoint_id"] == before["checkpoint"]["checkpoint_id"]
    thread = lg.threads.get(tid)
    assert (thread["status"], thread["values"]) == ("idle", state["values"])
    assert owner_sql(database, "SELECT target, detail->>'as_node', detail->'fields', detail->>'checkpoint_id'"
                               " FROM audit_log WHERE action = 'thread.update_state'") == [
        (f"thread:{tid}", "polish", ["text"], written)]
    # the checkpoint itself holds the value (the saver keeps strings inline), not only the thread row
    assert owner_sql(database, "SELECT checkpoint -> 'channel_values' ->> 'text' FROM checkpoints"
                               " WHERE thread_id = %s AND checkpoint_id = %s", tid, written) == [("edited by hand",)]
    # without `as_node` LangGraph writes as the step that wrote last (here the update's `polish`)
    again = lg.threads.update_state(tid, {"topic": "coffee"})["checkpoint"]["checkpoint_id"]
    assert lg.threads.get_state(tid)["values"] == {**state["values"], "topic": "coffee"} and again > written
    # the thread goes on from it
    assert lg.runs.wait(tid, "two_steps", input={"topic": "jam"})["text"] == "polished Polish rough jam"


def test_update_state_refuses_what_does_not_fit_with_the_whole_reason(live, team_agent, client, script, database):
    team, _ = team_agent
    lg = get_sync_client(url=live.url, api_key=team.key)
    never_ran = lg.threads.create()["thread_id"]
    with pytest.raises(ConflictError) as refused:
        lg.threads.update_state(never_ran, {"topic": "milk"})
    assert refused.value.response.json()["detail"] == "the thread has no agent yet; start a run on it first"
    tid = lg.threads.create()["thread_id"]
    lg.runs.wait(tid, "two_steps", input={"topic": "tea"})
    kept = _checkpoints(database, tid)
    refusals = [
        (({"topic": "x", "rough": "r", "messages": []},), {},
         "cannot update rough, messages: not a field of the agent; its fields are: topic, text"),
        (({"topic": ["a"], "text": {"b": 1}},), {},
         "values do not fit their declared types: text: Input should be a valid string; topic: Input should be a valid string"),
        (({"topic": "milk"},), {"as_node": "nope"}, "`as_node` must be a step of the agent: draft, polish (got `nope`)"),
        (({"topic": "milk"},), {"checkpoint_id": "1f0-not-the-newest"},
         "only the thread's newest checkpoint can be updated (`checkpoint_id` names another one)"),
    ]
    for args, options, detail in refusals:
        with pytest.raises(UnprocessableEntityError) as refused:
            lg.threads.update_state(tid, *args, **options)
        assert refused.value.response.json()["detail"] == detail
    assert _checkpoints(database, tid) == kept
    other = get_sync_client(url=live.url, api_key=make_team(client, "Other", "bo@other.test").key)
    with pytest.raises(NotFoundError):
        other.threads.update_state(tid, {"topic": "milk"})
    script.hold["polish"] = threading.Event()
    held = lg.runs.create(tid, "two_steps", input={"topic": "milk"})["run_id"]
    until(lambda: script.seen.count("polish") == 2)
    with pytest.raises(ConflictError) as refused:
        lg.threads.update_state(tid, {"topic": "oat"})
    assert refused.value.response.json()["detail"] == "the thread is busy with a run; update its state once the run has ended"
    script.hold.pop("polish").set()
    assert lg.runs.join(tid, held)["text"] == "polished Polish rough milk"
    assert lg.threads.get_state(tid)["values"]["topic"] == "milk"


def test_join_stream_after_a_last_event_id_sends_only_what_followed(live, team_agent):
    team, _ = team_agent
    lg = get_sync_client(url=live.url, api_key=team.key)
    tid = lg.threads.create()["thread_id"]
    parts = list(lg.runs.stream(tid, "two_steps", input={"topic": "tea"}, stream_mode=["updates", "values"]))
    assert [p.event for p in parts] == ["metadata", "updates", "updates", "values"]
    run_id = parts[0].data["run_id"]
    again = list(lg.runs.join_stream(tid, run_id, stream_mode=["updates", "values"], last_event_id=parts[1].id))
    assert [(p.event, p.id, p.data) for p in again] == [(p.event, p.id, p.data) for p in parts[2:]]
    assert [p.event for p in lg.runs.join_stream(tid, run_id, stream_mode="values")] == ["metadata", "values"]
    with pytest.raises(UnprocessableEntityError):
        list(lg.runs.join_stream(tid, run_id, stream_mode="debug"))


def test_threads_are_created_only_as_this_server_supports(live, team_agent):
    team, _ = team_agent
    lg = get_sync_client(url=live.url, api_key=team.key)
    refused = {"thread TTLs are not supported by this server; delete the thread when it is no longer needed": dict(ttl=60),
               "`supersteps` (a thread created with a prepared state) is not supported by this server; "
               "start a run on the new thread instead": dict(supersteps=[{"updates": [{"values": {"topic": "tea"},
                                                                                         "as_node": "draft"}]}])}
    for detail, options in refused.items():
        with pytest.raises(UnprocessableEntityError) as raised:
            lg.threads.create(**options)
        assert raised.value.response.json() == {"error": "invalid_request", "detail": detail}
    made = lg.threads.create(graph_id="two_steps")
    assert made["metadata"] == {"graph_id": "two_steps"}
    assert lg.threads.create(thread_id=made["thread_id"], if_exists="do_nothing") == made
    with pytest.raises(ConflictError):
        lg.threads.create(thread_id=made["thread_id"])
    assert lg.threads.search() == [made]
