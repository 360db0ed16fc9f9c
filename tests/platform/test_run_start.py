"""`POST /v1/agents/{id}/runs` starts a run in two statements (migration 0014): `af_run_start`
authenticates, sets the tenant and reads the plan and the agent; `af_run_queue` reserves the
quotas, inserts the run and queues its job, all or nothing. The answers are those of the
transaction path: 401/403 first, 404 for an agent the team does not have, 402 word for word."""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace
from datetime import date
from decimal import Decimal
from uuid import UUID, uuid4

import asyncpg
import asyncpg.connection
import pytest
from fastapi.testclient import TestClient

from agent_factory.platform import auth
from agent_factory.platform.app import create_app
from agent_factory.platform.runs import repository
from agent_factory.platform.tenancy import service as tenancy
from conftest import empty, make_team
from hosted_runs import agent, owner_sql

QUEUE = "run-start-tests"
NO_AGENT = {"error": "not_found", "detail": "no such agent"}
UNAUTHORIZED = {"error": "unauthorized", "detail": "unknown, revoked or expired credential"}


@pytest.fixture(scope="module")
def queue_only_app(runs_settings):
    """The API without a worker, queueing on a queue of its own: the runs it queues stay queued."""
    settings = replace(runs_settings, runs=replace(runs_settings.runs, worker_concurrency=0, queue=QUEUE))
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        yield client


@pytest.fixture
def queued(queue_only_app, database):
    empty(database.owner)
    queue_only_app.headers.clear()
    yield queue_only_app
    owner_sql(database, "DELETE FROM procrastinate_jobs WHERE queue_name = %s", QUEUE)


def _jobs(database, team) -> list[tuple]:
    return owner_sql(database, "SELECT args ->> 'run_id', lock, status FROM procrastinate_jobs"
                               " WHERE queue_name = %s AND args ->> 'team_id' = %s ORDER BY id", QUEUE, team.id)


def _statements(send) -> list[str]:
    """The SQL sent to the database while `send()` runs (asyncpg's query methods; a transaction's
    BEGIN and COMMIT go through `execute`). The app of these tests has no worker to send any."""
    sent = []
    with pytest.MonkeyPatch.context() as patch:
        for name in ("fetch", "fetchrow", "fetchval", "execute"):
            original = getattr(asyncpg.connection.Connection, name)

            async def recorded(self, query, *args, _original=original, **kwargs):
                sent.append(" ".join(query.split()))
                return await _original(self, query, *args, **kwargs)

            patch.setattr(asyncpg.connection.Connection, name, recorded)
        send()
    return sent


def test_a_run_without_a_thread_is_queued_in_two_statements(queued, database):
    team = make_team(queued, "Acme", "ada@acme.test")
    created = agent(queued, team)
    url = f"/v1/agents/{created['id']}/runs"
    first = queued.post(url, json={"input": {"topic": "tea"}}, headers=team.auth)  # checks the spec: it reads its text
    assert first.status_code == 202, first.text
    answers = []
    sent = _statements(lambda: answers.append(queued.post(url, json={"input": {"topic": "jam"}}, headers=team.auth)))
    assert [s.split(" FROM ")[1].split("(")[0] for s in sent] == ["af_run_start", "af_run_queue"]
    second = answers[0]
    assert second.status_code == 202, second.text
    run = second.json()
    assert (run["status"], run["input"], run["version"], run["thread_id"]) == ("pending", {"topic": "jam"}, 1, None)
    assert second.headers["Location"] == f"/v1/runs/{run['id']}"
    assert _jobs(database, team) == [(first.json()["id"], None, "todo"), (run["id"], None, "todo")]
    job_ids = owner_sql(database, "SELECT job_id FROM runs WHERE team_id = %s ORDER BY created_at", team.id)
    assert job_ids == owner_sql(database, "SELECT id FROM procrastinate_jobs WHERE queue_name = %s ORDER BY id", QUEUE)
    assert owner_sql(database, "SELECT runs, spend_reserved_usd FROM team_usage WHERE team_id = %s", team.id) == [
        (2, 2 * owner_sql(database, "SELECT cost_usd_max FROM agent_versions WHERE agent_id = %s", created["id"])[0][0])]


def test_a_run_on_a_thread_is_queued_on_the_threads_lock(queued, database):
    team = make_team(queued, "Acme", "ada@acme.test")
    created = agent(queued, team)
    thread = queued.post("/v1/threads", json={}, headers=team.auth).json()
    response = queued.post(f"/v1/agents/{created['id']}/runs", json={"input": {"topic": "tea"}, "thread_id": thread["id"]},
                           headers=team.auth)
    assert response.status_code == 202, response.text
    assert _jobs(database, team) == [(response.json()["id"], thread["id"], "todo")]
    assert queued.get(f"/v1/threads/{thread['id']}", headers=team.auth).json()["status"] == "busy"


def test_another_teams_agent_a_deleted_one_and_an_unknown_one_are_404_and_queue_nothing(queued, database):
    acme, globex = make_team(queued, "Acme", "ada@acme.test"), make_team(queued, "Globex", "hank@globex.test")
    theirs = agent(queued, globex)
    ours = agent(queued, acme)
    assert queued.delete(f"/v1/agents/{ours['id']}", headers=acme.auth).status_code == 204
    for agent_id in (theirs["id"], ours["id"], str(uuid4())):
        response = queued.post(f"/v1/agents/{agent_id}/runs", json={"input": {"topic": "tea"}}, headers=acme.auth)
        assert (response.status_code, response.json()) == (404, NO_AGENT), agent_id
    assert owner_sql(database, "SELECT count(*) FROM runs") == [(0,)]
    assert owner_sql(database, "SELECT count(*) FROM team_usage") == [(0,)]
    assert _jobs(database, acme) == []
    assert queued.post(f"/v1/agents/{theirs['id']}/runs", json={"input": {"topic": "tea"}}, headers=globex.auth).status_code == 202


def test_credentials_are_checked_before_the_agent_the_body_and_the_rate(queued, database):
    team = make_team(queued, "Acme", "ada@acme.test")
    created = agent(queued, team)
    url = f"/v1/agents/{created['id']}/runs"
    reader = queued.post("/v1/keys", json={"name": "reader", "scopes": ["agents:read"]}, headers=team.auth).json()["key"]
    runner = queued.post("/v1/keys", json={"name": "runner", "scopes": ["runs:write"]}, headers=team.auth).json()
    assert queued.post(url, json={"input": {"topic": "tea"}}, headers={"X-Api-Key": runner["key"]}).status_code == 202
    assert queued.delete(f"/v1/keys/{runner['id']}", headers=team.auth).status_code == 204
    forbidden = {"error": "forbidden", "detail": "this credential lacks the `runs:write` scope"}
    for path in (url, f"/v1/agents/{uuid4()}/runs", "/v1/agents/not-a-uuid/runs"):
        for body in ({"input": {"topic": "tea"}}, {"input": "not an object"}):
            response = queued.post(path, json=body, headers={"X-Api-Key": runner["key"]})  # revoked: at once
            assert (response.status_code, response.json()) == (401, UNAUTHORIZED), (path, body)
            assert "RateLimit-Limit" not in response.headers
            response = queued.post(path, json=body, headers={"X-Api-Key": reader})
            assert (response.status_code, response.json()) == (403, forbidden), (path, body)
    response = queued.post(url, json={"input": {"topic": "tea"}})
    assert (response.status_code, response.json()["detail"]) == (
        401, "send an API key as `Authorization: Bearer agf_…` or `X-Api-Key: agf_…`")
    response = queued.post("/v1/agents/not-a-uuid/runs", json={"input": {"topic": "tea"}}, headers=team.auth)
    assert [item["loc"] for item in response.json()["detail"]] == [["path", "agent_id"]]
    assert owner_sql(database, "SELECT count(*) FROM runs") == [(1,)]


def test_a_session_starts_runs_as_its_role_allows(queued):
    team = make_team(queued, "Acme", "ada@acme.test")
    created = agent(queued, team)
    queued.portal.call(tenancy.set_password, queued.app.state.pool, team.owner, "s3cret-passphrase")
    session = queued.post("/v1/sessions", json={"email": team.owner, "password": "s3cret-passphrase"}).json()["token"]
    response = queued.post(f"/v1/agents/{created['id']}/runs", json={"input": {"topic": "tea"}},
                           headers={"Authorization": f"Bearer {session}"})
    assert (response.status_code, response.json()["status"]) == (202, "pending")


def test_a_run_past_the_monthly_quota_leaves_no_run_no_job_and_no_usage(queued, database):
    team = make_team(queued, "Acme", "ada@acme.test")
    created = agent(queued, team)
    owner_sql(database, "INSERT INTO team_limits (team_id, runs_per_month) VALUES (%s, 1)", team.id)
    url = f"/v1/agents/{created['id']}/runs"
    accepted = queued.post(url, json={"input": {"topic": "tea"}}, headers=team.auth)
    assert accepted.status_code == 202, accepted.text
    before = owner_sql(database, "SELECT runs, spend_reserved_usd, spend_usd FROM team_usage WHERE team_id = %s", team.id)
    refused = queued.post(url, json={"input": {"topic": "jam"}}, headers=team.auth)
    assert (refused.status_code, refused.json()) == (
        402, {"error": "quota_exceeded", "detail": "the team used its 1 runs for this month (plan `free`)"})
    assert owner_sql(database, "SELECT id::text FROM runs") == [(accepted.json()["id"],)]
    assert [job[0] for job in _jobs(database, team)] == [accepted.json()["id"]]
    assert owner_sql(database, "SELECT runs, spend_reserved_usd, spend_usd FROM team_usage WHERE team_id = %s",
                     team.id) == before


def test_a_run_past_the_spend_ceiling_gives_back_the_run_it_took(queued, database):
    team = make_team(queued, "Acme", "ada@acme.test")
    created = agent(queued, team)
    worst = owner_sql(database, "SELECT cost_usd_max FROM agent_versions WHERE agent_id = %s", created["id"])[0][0]
    ceiling, = owner_sql(database, "INSERT INTO team_limits (team_id, spend_ceiling_usd) VALUES (%s, %s)"
                                   " RETURNING spend_ceiling_usd", team.id, worst * 3 / 2)[0]
    url = f"/v1/agents/{created['id']}/runs"
    assert queued.post(url, json={"input": {"topic": "tea"}}, headers=team.auth).status_code == 202
    refused = queued.post(url, json={"input": {"topic": "jam"}}, headers=team.auth)
    assert (refused.status_code, refused.json()) == (402, {
        "error": "quota_exceeded", "detail": f"this run may cost up to ${worst:f}, which would pass the team's spend "
                                             f"ceiling of ${ceiling:f} this month"})
    # the statement took the month's second run before the ceiling refused it: both went back
    assert owner_sql(database, "SELECT runs, spend_reserved_usd FROM team_usage WHERE team_id = %s", team.id) == [(1, worst)]
    assert owner_sql(database, "SELECT count(*) FROM runs") == [(1,)]
    assert len(_jobs(database, team)) == 1


def _on_app_connection(database, work):
    async def run():
        conn = await asyncpg.connect(database.app)
        await conn.set_type_codec("jsonb", encoder=json.dumps, decoder=json.loads, schema="pg_catalog")
        try:
            return await work(conn)
        finally:
            await conn.close()

    return asyncio.run(run())


def test_the_start_statement_reads_only_the_callers_team_and_its_tenant_ends_with_it(queued, database):
    acme, globex = make_team(queued, "Acme", "ada@acme.test"), make_team(queued, "Globex", "hank@globex.test")
    ours, theirs = agent(queued, acme), agent(queued, globex)
    owner_sql(database, "UPDATE teams SET plan = 'pro' WHERE id = %s", globex.id)
    owner_sql(database, "INSERT INTO team_limits (team_id, runs_per_month, spend_ceiling_usd) VALUES (%s, 7, 2.5)", acme.id)

    async def read(conn):
        found = []
        for agent_id in (UUID(ours["id"]), UUID(theirs["id"]), None):
            row = await repository.start_as(conn, auth.token_hash(acme.key), False, agent_id)
            after = await conn.fetchrow("SELECT current_setting('app.team_id', true) AS team, (SELECT count(*) FROM agents) AS n")
            found.append((str(row["team_id"]), row["plan"], row["runs_per_month"], row["spend_ceiling_usd"],
                          row["agent_id"], row["version"], row["spec_sha256"], after["team"], after["n"],
                          conn.is_in_transaction()))
        unknown = await repository.start_as(conn, auth.token_hash("agf_unknown"), False, UUID(ours["id"]))
        return found, unknown

    found, unknown = _on_app_connection(database, read)
    mine = (acme.id, "free", 7, Decimal("2.500000"))
    assert found == [(*mine, UUID(ours["id"]), 1, ours["spec_sha256"], "", 0, False),
                     (*mine, None, None, None, "", 0, False),
                     (*mine, None, None, None, "", 0, False)]
    assert unknown is None


def test_the_queue_statement_refuses_atomically_and_writes_only_for_the_team_it_names(queued, database):
    acme, globex = make_team(queued, "Acme", "ada@acme.test"), make_team(queued, "Globex", "hank@globex.test")
    ours, theirs = agent(queued, acme), agent(queued, globex)
    month = date(2026, 1, 1)

    def version(created):
        return {"agent_id": UUID(created["id"]), "version": 1, "spec_sha256": created["spec_sha256"]}

    async def attempts(conn):
        outcomes = []
        for quota, ceiling, created in ((0, None, ours), (5, Decimal("0.5"), ours), (5, None, theirs)):
            try:
                await repository.queue(conn, UUID(acme.id), None, month, quota, ceiling, version(created), None,
                                       {"topic": "tea"}, Decimal("1"), {}, {}, QUEUE)
            except asyncpg.PostgresError as exc:
                outcomes.append((exc.sqlstate, conn.is_in_transaction()))
        run = await repository.queue(conn, UUID(acme.id), None, month, 1, Decimal("1"), version(ours), None,
                                     {"topic": "tea"}, Decimal("1"), {"k": "v"}, {"m": 1}, QUEUE)
        return outcomes, dict(run)

    outcomes, run = _on_app_connection(database, attempts)
    # the run quota, the spend ceiling, then another team's agent (its key names no agent of this team)
    assert outcomes == [("QR001", False), ("QR002", False), ("23503", False)]
    assert (run["team_id"], run["agent_id"], run["status"], run["input"], run["options"], run["metadata"]) == (
        UUID(acme.id), UUID(ours["id"]), "pending", {"topic": "tea"}, {"k": "v"}, {"m": 1})
    assert owner_sql(database, "SELECT id, job_id FROM runs") == [(run["id"], run["job_id"])]
    assert owner_sql(database, "SELECT id, args, lock FROM procrastinate_jobs WHERE queue_name = %s", QUEUE) == [
        (run["job_id"], {"run_id": str(run["id"]), "team_id": acme.id}, None)]
    assert owner_sql(database, "SELECT team_id::text, month, runs, spend_reserved_usd FROM team_usage") == [
        (acme.id, month, 1, Decimal("1.000000"))]
