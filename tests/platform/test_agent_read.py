"""`GET /v1/agents/{id}` reads in one statement (`af_agent_read`): it must answer exactly as the
endpoints on the tenant transaction do, and its tenant must end with the statement."""

from __future__ import annotations

import asyncio
import hashlib
import uuid

import asyncpg

from agent_factory.platform import auth
from agent_factory.platform.agents import repository
from agent_factory.platform.tenancy import service as tenancy

UNAUTHORIZED = {"error": "unauthorized", "detail": "unknown, revoked or expired credential"}
NOT_FOUND = {"error": "not_found", "detail": "no such agent"}


def test_one_agent_is_read_with_a_key_in_either_header_or_a_session(client, two_teams, market_research):
    acme, _ = two_teams
    created = client.post("/v1/agents", json={"spec": market_research}, headers=acme.auth).json()
    client.portal.call(tenancy.set_password, client.app.state.pool, acme.owner, "s3cret-passphrase")
    session = client.post("/v1/sessions", json={"email": acme.owner, "password": "s3cret-passphrase"}).json()["token"]
    for headers in (acme.auth, {"X-Api-Key": acme.key}, {"Authorization": f"Bearer {session}"}):
        response = client.get(f"/v1/agents/{created['id']}", headers=headers)
        assert (response.status_code, response.json()) == (200, created), headers


def test_another_teams_agent_a_missing_one_and_a_deleted_one_are_404(client, two_teams, market_research):
    acme, globex = two_teams
    theirs = client.post("/v1/agents", json={"spec": market_research}, headers=globex.auth).json()["id"]
    ours = client.post("/v1/agents", json={"spec": market_research}, headers=acme.auth).json()["id"]
    assert client.delete(f"/v1/agents/{ours}", headers=acme.auth).status_code == 204
    for agent_id in (theirs, ours, str(uuid.uuid4())):
        response = client.get(f"/v1/agents/{agent_id}", headers=acme.auth)
        assert (response.status_code, response.json()) == (404, NOT_FOUND), agent_id
    assert client.get(f"/v1/agents/{theirs}", headers=globex.auth).json()["id"] == theirs


def test_unknown_revoked_and_missing_credentials_are_401_before_the_id_is_validated(client, two_teams, market_research):
    acme, _ = two_teams
    agent_id = client.post("/v1/agents", json={"spec": market_research}, headers=acme.auth).json()["id"]
    key = client.post("/v1/keys", json={"name": "temp", "scopes": ["agents:read"]}, headers=acme.auth).json()
    assert client.get(f"/v1/agents/{agent_id}", headers={"X-Api-Key": key["key"]}).status_code == 200
    assert client.delete(f"/v1/keys/{key['id']}", headers=acme.auth).status_code == 204
    forged = acme.key[:-4] + ("AAAA" if not acme.key.endswith("AAAA") else "BBBB")
    for token in (key["key"], forged, "not-a-key", "afs_unknown"):
        for path in (f"/v1/agents/{agent_id}", "/v1/agents/not-a-uuid"):
            response = client.get(path, headers={"X-Api-Key": token})
            assert (response.status_code, response.json()) == (401, UNAUTHORIZED), (token, path)
            assert response.headers["www-authenticate"] == "Bearer"
    response = client.get("/v1/agents/not-a-uuid")
    assert (response.status_code, response.json()["detail"]) == (
        401, "send an API key as `Authorization: Bearer agf_…` or `X-Api-Key: agf_…`")


def test_a_key_without_agents_read_is_403_and_a_malformed_id_is_422(client, two_teams, market_research):
    acme, _ = two_teams
    agent_id = client.post("/v1/agents", json={"spec": market_research}, headers=acme.auth).json()["id"]
    runner = client.post("/v1/keys", json={"name": "runner", "scopes": ["runs:write"]}, headers=acme.auth).json()["key"]
    for path in (f"/v1/agents/{agent_id}", "/v1/agents/not-a-uuid"):
        response = client.get(path, headers={"X-Api-Key": runner})
        assert (response.status_code, response.json()) == (
            403, {"error": "forbidden", "detail": "this credential lacks the `agents:read` scope"}), path
    response = client.get("/v1/agents/not-a-uuid", headers=acme.auth)
    assert response.status_code == 422
    assert [item["loc"] for item in response.json()["detail"]] == [["path", "agent_id"]]


def test_the_tenant_of_a_read_ends_with_its_statement(client, database, two_teams, market_research):
    acme, _ = two_teams
    agent_id = uuid.UUID(client.post("/v1/agents", json={"spec": market_research}, headers=acme.auth).json()["id"])

    async def read_then_look() -> tuple:
        conn = await asyncpg.connect(database.app)
        try:
            row = await repository.read_as(conn, auth.token_hash(acme.key), False, agent_id)
            after = await conn.fetchrow("SELECT current_setting('app.team_id', true) AS team,"
                                        " (SELECT count(*) FROM agents) AS agents")
            return row["team_id"], row["id"], after["team"], after["agents"], conn.is_in_transaction()
        finally:
            await conn.close()

    team, found, team_after, agents_after, open_transaction = asyncio.run(read_then_look())
    assert (str(team), found) == (acme.id, agent_id)
    assert (team_after, agents_after, open_transaction) == ("", 0, False)


def test_the_read_compares_the_stored_hash_in_constant_time(client, two_teams, market_research, compared_digests):
    acme, _ = two_teams
    agent_id = client.post("/v1/agents", json={"spec": market_research}, headers=acme.auth).json()["id"]
    compared_digests.clear()  # the create's check
    assert client.get(f"/v1/agents/{agent_id}", headers=acme.auth).status_code == 200
    digest = hashlib.sha256(acme.key.encode()).digest()
    assert compared_digests == [(digest, digest)]
