"""Members: invite by e-mail, change roles, remove; a team always keeps an owner."""

from __future__ import annotations

from agent_factory.platform.db.tenant import tenant_transaction
from agent_factory.platform.keys import service as keys
from agent_factory.platform.tenancy import service as tenancy


def _members(client, team):
    return {m["email"]: m["role"] for m in client.get("/v1/members", headers=team.auth).json()}


def test_invite_change_role_and_remove(client, two_teams):
    acme, _ = two_teams
    invited = client.post("/v1/members", json={"email": "bo@acme.test", "role": "viewer"}, headers=acme.auth)
    assert (invited.status_code, invited.json()["accepted_at"]) == (201, None)
    user_id = invited.json()["user_id"]
    assert _members(client, acme) == {"ada@acme.test": "owner", "bo@acme.test": "viewer"}
    again = client.post("/v1/members", json={"email": "bo@acme.test"}, headers=acme.auth)
    assert (again.status_code, again.json()["detail"]) == (
        409, f"bo@acme.test is already a member or invited; change their role with PATCH /v1/members/{user_id}")
    changed = client.patch(f"/v1/members/{user_id}", json={"role": "admin"}, headers=acme.auth)
    assert changed.json()["role"] == "admin"
    assert client.delete(f"/v1/members/{user_id}", headers=acme.auth).status_code == 204
    assert _members(client, acme) == {"ada@acme.test": "owner"}


def test_the_last_owner_cannot_leave_or_be_demoted(client, two_teams):
    acme, _ = two_teams
    owner_id = client.get("/v1/members", headers=acme.auth).json()[0]["user_id"]
    demote = client.patch(f"/v1/members/{owner_id}", json={"role": "member"}, headers=acme.auth)
    assert (demote.status_code, demote.json()) == (409, {"error": "conflict", "detail": "a team needs at least one owner; make someone else owner first"})
    assert client.delete(f"/v1/members/{owner_id}", headers=acme.auth).status_code == 409
    second = client.post("/v1/members", json={"email": "co@acme.test", "role": "owner"}, headers=acme.auth)
    assert second.status_code == 201
    # an invited owner is no owner yet: the team still has one
    assert client.patch(f"/v1/members/{owner_id}", json={"role": "member"}, headers=acme.auth).status_code == 409
    client.portal.call(tenancy.set_password, client.app.state.pool, "co@acme.test", "co-pass")
    assert client.post("/v1/sessions", json={"email": "co@acme.test", "password": "co-pass", "team_id": acme.id}).status_code == 201
    assert client.patch(f"/v1/members/{owner_id}", json={"role": "member"}, headers=acme.auth).status_code == 200


def test_removing_a_member_revokes_the_keys_they_made(client, two_teams):
    acme, _ = two_teams
    admin_key = client.post("/v1/keys", json={"name": "adm", "scopes": ["admin", "agents:read"]}, headers=acme.auth).json()["key"]
    invited = client.post("/v1/members", json={"email": "al@acme.test", "role": "admin"}, headers=acme.auth).json()
    assert invited["role"] == "admin"
    # a key made through the API belongs to the caller's user: issue one for the new admin directly
    async def issue():
        async with tenant_transaction(client.app.state.pool, acme.id) as conn:
            return await keys.issue(conn, acme.id, invited["user_id"], "al's key", ["agents:read"])

    theirs = client.portal.call(issue)["key"]
    assert client.get("/v1/agents", headers={"X-Api-Key": theirs}).status_code == 200
    assert client.delete(f"/v1/members/{invited['user_id']}", headers={"X-Api-Key": admin_key}).status_code == 204
    assert client.get("/v1/agents", headers={"X-Api-Key": theirs}).status_code == 401


def test_only_an_owner_grants_the_owner_role(client, two_teams):
    acme, _ = two_teams
    client.post("/v1/members", json={"email": "ad@acme.test", "role": "admin"}, headers=acme.auth)
    client.portal.call(tenancy.set_password, client.app.state.pool, "ad@acme.test", "admin-pass")
    token = client.post("/v1/sessions", json={"email": "ad@acme.test", "password": "admin-pass", "team_id": acme.id}).json()["token"]
    response = client.post("/v1/members", json={"email": "x@acme.test", "role": "owner"}, headers={"Authorization": f"Bearer {token}"})
    assert (response.status_code, response.json()["detail"]) == (403, "only an owner can grant, change or remove the owner role")


def test_the_audit_log_records_who_did_what(client, two_teams, market_research):
    acme, _ = two_teams
    agent = client.post("/v1/agents", json={"spec": market_research}, headers=acme.auth).json()
    client.delete(f"/v1/agents/{agent['id']}", headers=acme.auth)
    entries = client.get("/v1/audit", headers=acme.auth).json()["items"]
    assert [(e["action"], e["target"]) for e in entries] == [
        ("agent.delete", f"agent:{agent['id']}"), ("agent.create", f"agent:{agent['id']}"), ("team.create", f"team:{acme.id}")]
    assert entries[0]["actor_key"] is not None


def test_an_invitation_waits_for_the_user_to_log_in_naming_the_team(client, two_teams):
    # another team cannot enrol someone: the invitation counts for nothing until its user accepts
    acme, globex = two_teams
    client.portal.call(tenancy.set_password, client.app.state.pool, acme.owner, "ada-pass")
    invited = client.post("/v1/members", json={"email": acme.owner, "role": "admin"}, headers=globex.auth).json()
    assert invited["accepted_at"] is None
    # her own team is still the one a login without `team_id` opens
    own = client.post("/v1/sessions", json={"email": acme.owner, "password": "ada-pass"})
    assert (own.status_code, own.json()["team_id"]) == (201, acme.id)
    # naming Globex accepts its invitation, which Globex's audit log records
    joined = client.post("/v1/sessions", json={"email": acme.owner, "password": "ada-pass", "team_id": globex.id})
    assert (joined.status_code, joined.json()["team_id"]) == (201, globex.id)
    member = {m["email"]: m for m in client.get("/v1/members", headers=globex.auth).json()}[acme.owner]
    assert (member["role"], member["accepted_at"] is not None) == ("admin", True)
    actions = [(e["action"], e["target"]) for e in client.get("/v1/audit", headers=globex.auth).json()["items"]][:2]
    assert actions == [("member.accept", f"user:{invited['user_id']}"), ("member.invite", f"user:{invited['user_id']}")]
    # now she is in two teams
    ambiguous = client.post("/v1/sessions", json={"email": acme.owner, "password": "ada-pass"})
    assert (ambiguous.status_code, ambiguous.json()["detail"]) == (422, "this user belongs to several teams: give `team_id`")


def test_a_user_only_invited_is_told_which_team_to_name(client, two_teams):
    acme, _ = two_teams
    client.post("/v1/members", json={"email": "new@acme.test", "role": "member"}, headers=acme.auth)
    client.portal.call(tenancy.set_password, client.app.state.pool, "new@acme.test", "new-pass")
    nameless = client.post("/v1/sessions", json={"email": "new@acme.test", "password": "new-pass"})
    assert (nameless.status_code, nameless.json()) == (422, {"error": "invalid_request", "detail": (
        f"this user is in no team yet and is invited to Acme ({acme.id}): give the `team_id` of the invitation to accept")})
    # a wrong password learns nothing of the invitation
    wrong = client.post("/v1/sessions", json={"email": "new@acme.test", "password": "nope"})
    assert (wrong.status_code, wrong.json()["detail"]) == (401, "wrong e-mail or password")


def test_a_session_of_a_membership_not_accepted_is_refused(client, database, two_teams):
    # sessions are opened only for accepted memberships; the lookup checks again at every request
    import hashlib

    import psycopg

    acme, _ = two_teams
    invited = client.post("/v1/members", json={"email": "eve@acme.test", "role": "admin"}, headers=acme.auth).json()
    token = "afs_planted-session-token"
    with psycopg.connect(database.owner, autocommit=True) as conn:
        conn.execute("INSERT INTO sessions (team_id, user_id, token_hash, expires_at) VALUES (%s, %s, %s, now() + interval '1 hour')",
                     (acme.id, invited["user_id"], hashlib.sha256(token.encode()).digest()))
    refused = client.get("/v1/teams/me", headers={"Authorization": f"Bearer {token}"})
    assert (refused.status_code, refused.json()) == (401, {"error": "unauthorized", "detail": "unknown, revoked or expired credential"})
