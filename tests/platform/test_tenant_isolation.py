"""Tenants are isolated by the database: every endpoint with another team's ids answers 404, lists
never show another team's rows, and the app role with no tenant set reads nothing at all.

The matrix is built from the app's OpenAPI document, so an endpoint added later is covered without
editing this file; a path parameter the matrix does not know fails the test until it is taught.
"""

from __future__ import annotations

import asyncio
from uuid import UUID, uuid4

import psycopg
import pytest

from agent_factory.platform.db.tenant import SET_TENANT

TENANT_TABLES = ("teams", "users", "team_members", "api_keys", "sessions", "agents", "agent_versions", "audit_log",
                 "threads", "runs", "run_events", "team_usage", "team_limits", "checkpoints", "checkpoint_blobs",
                 "checkpoint_writes", "team_secrets")


@pytest.fixture
def populated(client, two_teams, market_research):
    """Both teams with an agent, a second key and a second member; returns ids of each team's resources."""
    resources = {}
    for team in two_teams:
        agent = client.post("/v1/agents", json={"spec": market_research}, headers=team.auth).json()
        key = client.post("/v1/keys", json={"name": "ci", "scopes": ["agents:read"]}, headers=team.auth).json()
        member = client.post("/v1/members", json={"email": f"viewer@{team.id}.test", "role": "viewer"}, headers=team.auth).json()
        thread = client.post("/v1/threads", json={}, headers=team.auth).json()
        run = client.post(f"/v1/agents/{agent['id']}/runs", json={"input": {"query": "q"}, "thread_id": thread["id"]},
                          headers=team.auth).json()
        resources[team.id] = {"agent_id": agent["id"], "key_id": key["id"], "user_id": member["user_id"], "version": "1",
                              "thread_id": thread["id"], "run_id": run["id"], "assistant_id": agent["id"], "name": "PROVIDER_KEY",
                              "checkpoint_id": "1f0-any"}  # the thread is the other team's: no checkpoint is looked at
    return resources


def operations(client):
    for path, methods in client.app.openapi()["paths"].items():
        for method in methods:
            yield method.upper(), path


BODIES = {("PATCH", "/v1/members/{user_id}"): {"json": {"role": "admin"}},
          ("POST", "/v1/agents/{agent_id}/runs"): {"json": {"input": {"query": "q"}}},
          ("POST", "/threads/{thread_id}/state"): {"json": {"values": {"query": "q"}}},
          **{("POST", f"/threads/{{thread_id}}/runs{tail}"): {"json": {"assistant_id": "market_research_agent"}}
             for tail in ("", "/wait", "/stream")}}


def _body(method: str, path: str, spec: str) -> dict:
    if (method, path) in BODIES:
        return BODIES[(method, path)]
    if method in ("PUT", "POST") and "agents" in path:
        return {"json": {"spec": spec}}
    return {}


# a PUT by name writes the caller's own team's entry: it never reaches another team's
UPSERTS = {("PUT", "/v1/secrets/{name}")}


def test_every_endpoint_answers_404_for_every_resource_of_another_team(client, two_teams, populated, market_research):
    acme, globex = two_teams
    theirs = populated[globex.id]
    checked = 0
    for method, path in operations(client):
        if "{" not in path or (method, path) in UPSERTS:
            continue
        params = {name.strip("{}") for name in path.split("/") if name.startswith("{")}
        unknown = params - set(theirs)
        assert not unknown, f"teach the matrix the path parameter(s) {unknown} of {method} {path}"
        url = path.format(**theirs)
        response = client.request(method, url, headers=acme.auth, **_body(method, path, market_research))
        assert response.status_code == 404, f"{method} {url}: {response.status_code} {response.text}"
        assert response.json()["error"] == "not_found"
        checked += 1
    assert checked == 33, f"{checked} operations take an id: a route was added or lost; update this count knowingly"
    # nothing of theirs changed
    assert client.get(f"/v1/threads/{theirs['thread_id']}", headers=globex.auth).status_code == 200
    assert client.get(f"/v1/runs/{theirs['run_id']}", headers=globex.auth).json()["status"] != "interrupted"
    assert client.get(f"/v1/agents/{theirs['agent_id']}", headers=globex.auth).json()["version"] == 1
    roles = {m["user_id"]: m["role"] for m in client.get("/v1/members", headers=globex.auth).json()}
    assert roles[theirs["user_id"]] == "viewer"
    assert [k["revoked_at"] for k in client.get("/v1/keys", headers=globex.auth).json()] == [None, None]


def test_a_run_body_naming_another_teams_thread_is_answered_as_for_an_unused_id(client, two_teams, populated, database):
    """`POST /v1/agents/{own}/runs` with the other team's thread in its body: 404 exactly as for a
    thread nobody has, whatever the multitask strategy; their run is not asked to stop, and
    nothing is queued."""
    acme, globex = two_teams
    mine, theirs = populated[acme.id], populated[globex.id]
    answers = [client.post(f"/v1/agents/{mine['agent_id']}/runs", headers=acme.auth,
                           json={"input": {"query": "q"}, "thread_id": thread, "multitask_strategy": strategy})
               for thread in (theirs["thread_id"], str(uuid4())) for strategy in ("enqueue", "interrupt", "reject")]
    assert [(a.status_code, a.json()) for a in answers] == [(404, {"error": "not_found", "detail": "no such thread"})] * 6
    # a worker of another test's app may be running their run meanwhile: it may end, but never interrupted
    with psycopg.connect(database.owner) as conn:
        assert conn.execute("SELECT id::text, cancel_requested, status = 'interrupted' FROM runs ORDER BY id").fetchall() == sorted(
            [(mine["run_id"], False, False), (theirs["run_id"], False, False)])


def test_no_list_shows_another_teams_data(client, two_teams, populated):
    acme, globex = two_teams
    theirs = {*populated[globex.id].values(), globex.id, globex.owner} - {"1"}
    listed = 0
    for method, path in operations(client):
        if method != "GET" or "{" in path or not path.startswith("/v1/"):
            continue
        response = client.get(path, headers=acme.auth)
        assert response.status_code == 200, f"GET {path}: {response.text}"
        leaked = [value for value in theirs if value in response.text]
        assert leaked == [], f"GET {path} shows another team's {leaked}"
        listed += 1
    assert listed == 7, f"{listed} list routes: a route was added or lost; update this count knowingly"


def test_the_app_role_reads_no_row_of_any_table_without_a_tenant(client, database, populated):
    with psycopg.connect(database.app, autocommit=True) as conn:
        assert conn.execute("SELECT rolbypassrls, rolsuper FROM pg_roles WHERE rolname = current_user").fetchone() == (False, False)
        for table in TENANT_TABLES:
            assert conn.execute(f"SELECT count(*) FROM {table}").fetchone() == (0,), table
    with psycopg.connect(database.owner, autocommit=True) as conn:
        # the rows are there: the owner (the migrating role) sees both teams
        assert conn.execute("SELECT count(*) FROM agents").fetchone() == (2,)


def test_a_query_that_forgets_the_team_returns_only_the_tenants_rows(client, database, two_teams, populated):
    acme, _ = two_teams
    with psycopg.connect(database.app) as conn:
        conn.execute(SET_TENANT.replace("$1", "%s").replace("$2", "%s"), (acme.id, ""))
        assert conn.execute("SELECT id::text FROM agents").fetchall() == [(populated[acme.id]["agent_id"],)]
        assert conn.execute("SELECT id::text FROM teams").fetchall() == [(acme.id,)]
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("INSERT INTO agents (team_id, name, kind, latest_version) SELECT id, 'x', 'agent', 1 FROM teams"
                         " UNION ALL SELECT %s::uuid, 'y', 'agent', 1", (populated and list(populated)[1],))


def test_the_tenant_does_not_outlive_its_transaction(database, two_teams, populated):
    acme, _ = two_teams
    with psycopg.connect(database.app, autocommit=True) as conn:
        with conn.transaction():
            conn.execute(SET_TENANT.replace("$1", "%s").replace("$2", "%s"), (acme.id, ""))
            assert conn.execute("SELECT count(*) FROM agents").fetchone() == (1,)
        assert conn.execute("SELECT count(*) FROM agents").fetchone() == (0,)


def _checkpoint(topic: list[str], checkpoint_id: str | None = None) -> tuple[dict, dict]:
    """A checkpoint holding `topic` (with the id given, else a new one) and its new channel versions;
    a list, so the saver stores it as a blob (it keeps strings in the checkpoint row)."""
    from langgraph.checkpoint.base import empty_checkpoint

    checkpoint = empty_checkpoint()
    checkpoint.update(channel_values={"topic": topic}, channel_versions={"topic": "1"},
                      **({"id": checkpoint_id} if checkpoint_id else {}))
    return checkpoint, {"topic": "1"}


def test_a_thread_id_used_by_two_teams_never_mixes_their_checkpoints(database, two_teams):
    """The checkpoint tables' keys (the saver's, without the team) rely on RLS alone: a team whose
    run named another team's thread (ids are minted by the server, so none can) would neither read
    nor overwrite that team's checkpoints, and its own would stay its own."""
    from agent_factory.platform.worker.checkpoints import team_saver

    acme, globex = (UUID(t.id) for t in two_teams)
    thread = {"configurable": {"thread_id": str(uuid4()), "checkpoint_ns": ""}}

    async def scenario():
        async with team_saver(database.app, acme) as saver:
            theirs, versions = _checkpoint(["acme's secret"])
            await saver.aput(thread, theirs, {"source": "input"}, versions)
        async with team_saver(database.app, globex) as saver:
            unseen = await saver.aget_tuple(thread)
            overwrite, versions = _checkpoint(["globex overwrites"], theirs["id"])
            with pytest.raises(psycopg.errors.InsufficientPrivilege) as refused:
                await saver.aput(thread, overwrite, {}, versions)
            mine, versions = _checkpoint(["globex's own"])
            await saver.aput(thread, mine, {}, versions)
            seen_by_globex = (await saver.aget_tuple(thread)).checkpoint
        async with team_saver(database.app, acme) as saver:
            seen_by_acme = (await saver.aget_tuple(thread)).checkpoint
        return unseen, str(refused.value), seen_by_globex, seen_by_acme, theirs, mine

    unseen, refused, seen_by_globex, seen_by_acme, theirs, mine = asyncio.run(scenario())
    assert unseen is None
    assert refused == 'new row violates row-level security policy (USING expression) for table "checkpoints"'
    assert (seen_by_acme["id"], seen_by_acme["channel_values"]) == (theirs["id"], {"topic": ["acme's secret"]})
    # globex's blob had the key of acme's (thread, channel, version): not written, and acme's not shown
    assert (seen_by_globex["id"], seen_by_globex["channel_values"]) == (mine["id"], {})
    with psycopg.connect(database.owner) as conn:
        rows = conn.execute("SELECT team_id::text, checkpoint_id FROM checkpoints WHERE thread_id = %s ORDER BY checkpoint_id",
                            (thread["configurable"]["thread_id"],)).fetchall()
    assert rows == [(str(acme), theirs["id"]), (str(globex), mine["id"])]
