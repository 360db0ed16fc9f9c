"""The worker's side of a hosted run in one statement each (`af_run_claim`, migration 0013): the
claim answers as the reads it replaced did, under the run's team alone, and its tenant ends with
the statement."""

from __future__ import annotations

from uuid import UUID

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
