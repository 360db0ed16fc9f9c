"""The worker's side of a hosted run in one statement each (`af_run_claim`, `af_run_finish`,
migration 0013): the claim answers as the reads it replaced did, the outcome writes what the
statements it replaced wrote, both under the run's team alone; an outcome is written whole by the
attempt holding the run, or not at all; and the tenant ends with the statement."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from uuid import UUID

import asyncpg

from agent_factory.platform.db.tenant import tenant_transaction
from agent_factory.platform.runs import repository
from conftest import make_team
from hosted_runs import TWO_STEPS, agent, owner_sql

GIVE_UP = "the run's worker stopped 3 times"


def _finished_run(client, team, agent_id: str | None = None) -> dict:
    agent_id = agent_id or agent(client, team)["id"]
    run = client.post(f"/v1/agents/{agent_id}/runs?wait=true", json={"input": {"topic": "tea"}},
                      headers=team.auth).json()
    assert run["status"] == "success"
    return run


def _park(database, run_id: str, status: str, attempt: int) -> None:
    """The run as if its worker were gone: `status`, `attempt` attempts taken, no start time."""
    owner_sql(database, "UPDATE runs SET status = %s, attempt = %s, started_at = NULL WHERE id = %s",
              status, attempt, run_id)


def _claim(client, team_id: str, run_id: str, secrets: bool = True):
    """The claim as the worker makes it, then what its connection sees after the statement."""
    async def claim():
        async with client.app.state.pool.acquire() as conn:
            row = await repository.claim(conn, UUID(team_id), UUID(run_id), 3, GIVE_UP, secrets)
            after = await conn.fetchrow("SELECT current_setting('app.team_id', true) AS team,"
                                        " (SELECT count(*) FROM runs) AS runs")
            return row, (after["team"], after["runs"], conn.is_in_transaction())

    return client.portal.call(claim)


def _stored(client, team_id: str, run_id: str) -> dict:
    async def read():
        async with tenant_transaction(client.app.state.pool, UUID(team_id)) as conn:
            return dict(await conn.fetchrow(f"SELECT {repository.RUN_COLUMNS}, base_checkpoint FROM runs WHERE id = $1",
                                            UUID(run_id)))

    return client.portal.call(read)


def test_a_claim_returns_the_run_its_spec_text_and_the_teams_sealed_secrets(hosted, database):
    team = make_team(hosted, "Acme", "ada@acme.test")
    for name, value in (("OPENAI_API_KEY", "sk-acme-openai"), ("ANTHROPIC_API_KEY", "sk-acme-anthropic")):
        assert hosted.put(f"/v1/secrets/{name}", json={"value": value}, headers=team.auth).status_code == 204
    run = _finished_run(hosted, team)
    _park(database, run["id"], "pending", 0)
    try:
        row, after = _claim(hosted, team.id, run["id"])
        claimed = dict(row)
        names, sealed = claimed.pop("secret_names"), claimed.pop("sealed_secrets")
        assert claimed.pop("spec_text") == TWO_STEPS
        assert claimed == _stored(hosted, team.id, run["id"])  # every column of the run, as it now is
        assert (claimed["status"], claimed["attempt"], claimed["base_checkpoint"]) == ("running", 1, "")
        assert claimed["started_at"] is not None
        vault = hosted.app.state.vault
        assert [(n, vault.open(UUID(team.id), n, c)) for n, c in zip(names, sealed)] == [
            ("ANTHROPIC_API_KEY", "sk-acme-anthropic"), ("OPENAI_API_KEY", "sk-acme-openai")]
        assert after == ("", 0, False)  # the tenant ended with the statement, and so did its transaction
        row, _ = _claim(hosted, team.id, run["id"], secrets=False)
        assert (row["attempt"], row["spec_text"], row["secret_names"], row["sealed_secrets"]) == (2, TWO_STEPS, None, None)
    finally:
        owner_sql(database, "UPDATE runs SET status = 'success' WHERE id = %s", run["id"])  # no worker holds it


def test_another_teams_id_claims_nothing_and_gives_nothing_up(hosted, database):
    acme, globex = make_team(hosted, "Acme", "ada@acme.test"), make_team(hosted, "Globex", "hank@globex.test")
    assert hosted.put("/v1/secrets/OPENAI_API_KEY", json={"value": "sk-globex"}, headers=globex.auth).status_code == 204
    queued = _finished_run(hosted, acme)
    stuck = _finished_run(hosted, acme, queued["agent_id"])
    _park(database, queued["id"], "pending", 0)
    _park(database, stuck["id"], "running", 3)
    try:
        for run in (queued, stuck):
            assert _claim(hosted, globex.id, run["id"]) == (None, ("", 0, False))
        assert owner_sql(database, "SELECT status, attempt, error FROM runs ORDER BY status") == [
            ("pending", 0, None), ("running", 3, None)]
        assert _claim(hosted, acme.id, stuck["id"]) == (None, ("", 0, False))  # no attempt left: given up
        assert owner_sql(database, "SELECT status, attempt, error, error_type FROM runs WHERE id = %s", stuck["id"]) == [
            ("error", 3, GIVE_UP, "WorkerLost")]
    finally:
        owner_sql(database, "UPDATE runs SET status = 'success' WHERE status IN ('pending', 'running')")


LEDGER = [{"step": "draft", "cost": "0.250000"}]
EVENTS = [("llm", {"cost": "0.250000"}), ("run.end", {"status": "error", "output": None, "error": "boom", "cost_usd": "0.250000"})]


def _running_on_a_thread(client, database, team) -> tuple[str, str, int]:
    """A run on a thread as its worker holds it (attempt 1, the thread busy), with known usage (5
    runs, its reserve plus $1 held, $0.5 spent); its id, its thread's and its last event's seq."""
    thread = client.post("/v1/threads", json={}, headers=team.auth).json()["id"]
    created = agent(client, team)
    run = client.post(f"/v1/agents/{created['id']}/runs?wait=true", json={"input": {"topic": "tea"}, "thread_id": thread},
                      headers=team.auth).json()
    assert run["status"] == "success"
    owner_sql(database, "UPDATE runs SET status = 'running', attempt = 1, finished_at = NULL WHERE id = %s", run["id"])
    owner_sql(database, """UPDATE threads SET status = 'busy', values = '{"topic": "tea"}' WHERE id = %s""", thread)
    owner_sql(database, "UPDATE team_usage SET runs = 5, spend_reserved_usd = 1 + (SELECT reserved_usd FROM runs WHERE id = %s),"
                        " spend_usd = 0.5", run["id"])
    (seq,), = owner_sql(database, "SELECT max(seq) FROM run_events WHERE run_id = %s", run["id"])
    return run["id"], thread, seq


def _written(database, run_id: str, thread_id: str, after: int) -> tuple:
    """What an outcome writes: the run, the team's usage, the thread and the run's events after `after`."""
    return (owner_sql(database, "SELECT status, attempt, output, state, error, error_type, ledger, cost_usd FROM runs"
                                " WHERE id = %s", run_id),
            owner_sql(database, "SELECT runs, spend_reserved_usd, spend_usd FROM team_usage"),
            owner_sql(database, "SELECT status, values FROM threads WHERE id = %s", thread_id),
            owner_sql(database, "SELECT attempt, event, data FROM run_events WHERE run_id = %s AND seq > %s ORDER BY seq",
                      run_id, after))


def _finish(client, database, team_id: str, run_id: str, attempt: int, events=EVENTS):
    """The outcome as the worker writes it (an error that called a model) or the error it raised,
    the notifications of its commit, and what its connection sees after the statement."""
    async def finish():
        listener = await asyncpg.connect(database.app)
        heard = []
        await listener.add_listener("af_run_done", lambda *args: heard.append(args[3]))
        try:
            async with client.app.state.pool.acquire() as conn:
                try:
                    row = await repository.finish(conn, UUID(team_id), UUID(run_id), attempt, "error", None,
                                                  {"rough": "rough tea"}, "boom", "StepError", [], LEDGER,
                                                  Decimal("0.25"), False, events)
                except asyncpg.PostgresError as exc:
                    row = exc
                after = await conn.fetchrow("SELECT current_setting('app.team_id', true) AS team,"
                                            " (SELECT count(*) FROM runs) AS runs")
                after = (after["team"], after["runs"], conn.is_in_transaction())
            await asyncio.sleep(0.2)  # a notification arrives after the commit
            return row, [h for h in heard if h == run_id], after
        finally:
            await listener.close()

    return client.portal.call(finish)


def _ended(database, run_id: str) -> None:
    owner_sql(database, "UPDATE runs SET status = 'success' WHERE id = %s", run_id)  # no worker holds it really


def test_an_outcome_writes_the_run_quota_thread_events_and_notification_in_one_statement(hosted, database):
    team = make_team(hosted, "Acme", "ada@acme.test")
    run, thread, seq = _running_on_a_thread(hosted, database, team)
    try:
        row, heard, after = _finish(hosted, database, team.id, run, 1)
        assert dict(row) == {k: v for k, v in _stored(hosted, team.id, run).items() if k != "base_checkpoint"}
        assert (row["status"], row["finished_at"] is not None, heard, after) == ("error", True, [run], ("", 0, False))
        assert _written(database, run, thread, seq) == (
            [("error", 1, None, {"rough": "rough tea"}, "boom", "StepError", LEDGER, Decimal("0.250000"))],
            [(5, Decimal("1.000000"), Decimal("0.750000"))],  # the run's hold released, its cost spent, the run counted
            [("error", {"rough": "rough tea"})],
            [(1, "llm", {"cost": "0.250000"}),
             (1, "run.end", {"status": "error", "output": None, "error": "boom", "cost_usd": "0.250000"})])
    finally:
        _ended(database, run)


def test_a_stale_attempt_or_another_teams_id_writes_no_outcome_and_nothing_after_it(hosted, database):
    acme, globex = make_team(hosted, "Acme", "ada@acme.test"), make_team(hosted, "Globex", "hank@globex.test")
    run, thread, seq = _running_on_a_thread(hosted, database, acme)
    try:
        before = _written(database, run, thread, seq)
        (reserved,), = owner_sql(database, "SELECT reserved_usd FROM runs WHERE id = %s", run)
        assert before[1:] == ([(5, 1 + reserved, Decimal("0.500000"))], [("busy", {"topic": "tea"})], [])
        for team_id, attempt in ((acme.id, 0), (acme.id, 2), (globex.id, 1)):
            assert _finish(hosted, database, team_id, run, attempt) == (None, [], ("", 0, False)), (team_id, attempt)
            assert _written(database, run, thread, seq) == before
    finally:
        _ended(database, run)


def test_a_failing_step_of_an_outcome_leaves_nothing_written(hosted, database):
    team = make_team(hosted, "Acme", "ada@acme.test")
    run, thread, seq = _running_on_a_thread(hosted, database, team)
    try:
        before = _written(database, run, thread, seq)
        failed, heard, after = _finish(hosted, database, team.id, run, 1, events=[*EVENTS, (None, {})])  # the last write fails
        assert (type(failed), str(failed).splitlines()[0], heard, after) == (
            asyncpg.NotNullViolationError, 'null value in column "event" of relation "run_events" violates not-null constraint',
            [], ("", 0, False))
        assert _written(database, run, thread, seq) == before
        assert _finish(hosted, database, team.id, run, 1)[0]["status"] == "error"  # the run was still the attempt's
    finally:
        _ended(database, run)
