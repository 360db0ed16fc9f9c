"""API keys and sessions: shown once, stored as SHA-256, compared in constant time, scoped, revocable."""

from __future__ import annotations

import hashlib

import psycopg

from agent_factory.platform.tenancy import service as tenancy

UNAUTHORIZED = {"error": "unauthorized", "detail": "unknown, revoked or expired credential"}


def test_a_request_without_a_credential_is_401(client, two_teams):
    response = client.get("/v1/agents")
    assert response.status_code == 401
    assert response.json() == {"error": "unauthorized",
                               "detail": "send an API key as `Authorization: Bearer agf_…` or `X-Api-Key: agf_…`"}
    assert response.headers["www-authenticate"] == "Bearer"


def test_an_unknown_key_is_401(client, two_teams):
    acme, _ = two_teams
    forged = acme.key[:-4] + ("AAAA" if not acme.key.endswith("AAAA") else "BBBB")
    for headers in ({"Authorization": f"Bearer {forged}"}, {"X-Api-Key": forged}, {"X-Api-Key": "not-a-key"}):
        response = client.get("/v1/agents", headers=headers)
        assert (response.status_code, response.json()) == (401, UNAUTHORIZED)


def test_the_key_works_in_either_header(client, two_teams):
    acme, _ = two_teams
    assert client.get("/v1/teams/me", headers={"X-Api-Key": acme.key}).json()["name"] == "Acme"
    assert client.get("/v1/teams/me", headers=acme.auth).json()["id"] == acme.id


def test_the_headers_are_read_as_the_documented_security_schemes(client, two_teams):
    """The tenant dependency reads the headers itself; it must read them as FastAPI's HTTPBearer
    and APIKeyHeader would: any case of `Bearer`, X-Api-Key first, an empty header is absent."""
    acme, beta = two_teams
    missing = {"error": "unauthorized", "detail": "send an API key as `Authorization: Bearer agf_…` or `X-Api-Key: agf_…`"}
    for headers, expected in (
        ({"Authorization": f"bearer {acme.key}"}, "Acme"),
        ({"Authorization": f"BEARER   {acme.key}  "}, "Acme"),
        ({"X-Api-Key": acme.key, "Authorization": f"Bearer {beta.key}"}, "Acme"),
        ({"X-Api-Key": "", "Authorization": f"Bearer {beta.key}"}, "Globex"),
    ):
        assert client.get("/v1/teams/me", headers=headers).json()["name"] == expected, headers
    for headers in ({"Authorization": f"Basic {acme.key}"}, {"Authorization": "Bearer"}, {"Authorization": "Bearer "},
                    {"X-Api-Key": ""}, {"Authorization": acme.key}):
        response = client.get("/v1/teams/me", headers=headers)
        assert (response.status_code, response.json()) == (401, missing), headers


def test_a_revoked_key_is_401(client, two_teams):
    acme, _ = two_teams
    created = client.post("/v1/keys", json={"name": "temp", "scopes": ["agents:read"]}, headers=acme.auth).json()
    assert client.get("/v1/agents", headers={"X-Api-Key": created["key"]}).status_code == 200
    assert client.delete(f"/v1/keys/{created['id']}", headers=acme.auth).status_code == 204
    response = client.get("/v1/agents", headers={"X-Api-Key": created["key"]})
    assert (response.status_code, response.json()) == (401, UNAUTHORIZED)


def test_a_read_only_key_cannot_write(client, two_teams, market_research):
    acme, _ = two_teams
    reader = client.post("/v1/keys", json={"name": "reader", "scopes": ["agents:read"]}, headers=acme.auth).json()["key"]
    assert client.get("/v1/agents", headers={"X-Api-Key": reader}).status_code == 200
    response = client.post("/v1/agents", json={"spec": market_research}, headers={"X-Api-Key": reader})
    assert (response.status_code, response.json()) == (403, {"error": "forbidden", "detail": "this credential lacks the `agents:write` scope"})
    escalate = client.post("/v1/keys", json={"name": "x", "scopes": ["admin"]}, headers={"X-Api-Key": reader})
    assert escalate.status_code == 403
    assert client.get("/v1/agents", headers=acme.auth).json()["items"] == []


def test_a_key_cannot_be_given_scopes_its_creator_lacks(client, two_teams):
    acme, _ = two_teams
    writer = client.post("/v1/keys", json={"name": "w", "scopes": ["agents:write", "admin"]}, headers=acme.auth).json()["key"]
    invited = client.post("/v1/members", json={"email": "mia@acme.test", "role": "member"}, headers={"X-Api-Key": writer})
    assert invited.status_code == 201
    client.portal.call(tenancy.set_password, client.app.state.pool, "mia@acme.test", "correct horse")
    token = client.post("/v1/sessions", json={"email": "mia@acme.test", "password": "correct horse", "team_id": acme.id}).json()["token"]
    response = client.post("/v1/keys", json={"name": "x", "scopes": ["agents:read"]}, headers={"Authorization": f"Bearer {token}"})
    assert (response.status_code, response.json()["detail"]) == (403, "this credential lacks the `admin` scope")


def test_keys_are_shown_once_and_stored_only_as_sha256(client, database, two_teams):
    acme, _ = two_teams
    created = client.post("/v1/keys", json={"name": "ci", "scopes": ["agents:read"]}, headers=acme.auth).json()
    key = created["key"]
    assert key.startswith("agf_") and len(key) == 4 + 43  # 32 random bytes, URL-safe base64
    listed = client.get("/v1/keys", headers=acme.auth).json()
    assert key not in str(listed)
    assert {k["prefix"] for k in listed} == {acme.key[:12], key[:12]}
    with psycopg.connect(database.owner) as conn:
        stored = conn.execute("SELECT key_hash FROM api_keys WHERE id = %s", (created["id"],)).fetchone()[0]
        dump = conn.execute("SELECT string_agg(t::text, '') FROM api_keys t").fetchone()[0]
    assert bytes(stored) == hashlib.sha256(key.encode()).digest()
    assert key not in dump


def test_keys_are_compared_in_constant_time(client, two_teams, compared_digests):
    acme, _ = two_teams
    assert client.get("/v1/teams/me", headers=acme.auth).status_code == 200
    digest = hashlib.sha256(acme.key.encode()).digest()
    assert compared_digests == [(digest, digest)]


def test_last_used_at_is_recorded(client, two_teams):
    acme, _ = two_teams
    before = client.get("/v1/keys", headers=acme.auth).json()
    assert [k["last_used_at"] is not None for k in before] == [True]


def test_a_session_from_email_and_password_works_until_logout(client, two_teams):
    acme, _ = two_teams
    client.portal.call(tenancy.set_password, client.app.state.pool, acme.owner, "s3cret-passphrase")
    wrong = client.post("/v1/sessions", json={"email": acme.owner, "password": "nope"})
    assert (wrong.status_code, wrong.json()) == (401, {"error": "unauthorized", "detail": "wrong e-mail or password"})
    unknown = client.post("/v1/sessions", json={"email": "nobody@acme.test", "password": "nope"})
    assert unknown.json() == wrong.json()
    session = client.post("/v1/sessions", json={"email": acme.owner.upper(), "password": "s3cret-passphrase"})
    assert session.status_code == 201
    body = session.json()
    assert body["team_id"] == acme.id and body["token"].startswith("afs_")
    headers = {"Authorization": f"Bearer {body['token']}"}
    assert client.get("/v1/teams/me", headers=headers).json()["id"] == acme.id
    assert client.delete("/v1/sessions/current", headers=headers).status_code == 204
    assert client.get("/v1/teams/me", headers=headers).json() == UNAUTHORIZED


def test_a_user_in_two_teams_picks_one_at_login(client, two_teams):
    acme, globex = two_teams
    client.post("/v1/members", json={"email": acme.owner, "role": "viewer"}, headers=globex.auth)
    client.portal.call(tenancy.set_password, client.app.state.pool, acme.owner, "pw-for-both")
    chosen = client.post("/v1/sessions", json={"email": acme.owner, "password": "pw-for-both", "team_id": globex.id}).json()
    ambiguous = client.post("/v1/sessions", json={"email": acme.owner, "password": "pw-for-both"})
    assert (ambiguous.status_code, ambiguous.json()["detail"]) == (422, "this user belongs to several teams: give `team_id`")
    headers = {"Authorization": f"Bearer {chosen['token']}"}
    assert client.get("/v1/teams/me", headers=headers).json()["name"] == "Globex"
    # a viewer reads but does not write
    assert client.post("/v1/check", json={"spec": "# Agent: X"}, headers=headers).status_code == 200
    assert client.delete(f"/v1/members/{acme.id}", headers=headers).status_code == 403
