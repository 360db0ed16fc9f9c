"""Per-team provider keys: stored encrypted (Fernet, key from the environment), listed by name
only, used by that team's runs alone, never returned nor written into runs or events."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timezone
from uuid import UUID

import pytest
from cryptography.fernet import Fernet
from fastapi.testclient import TestClient

from agent_factory.platform.app import create_app
from agent_factory.platform.secrets.vault import Vault
from agent_factory.platform.settings import RunSettings
from conftest import empty, make_team
from hosted_runs import STUB_KEY_ENV, agent, config_text, owner_sql

QUEUE = "secrets-test"
KEY_NAME = "AF_TEAM_PROVIDER_KEY"  # set nowhere in the environment: only a team's secret provides it
SECRET = "sk-team-acme-0123456789"
# how a run fails when no key is set for its model (`api_key_env` names one no one set)
UNSET = ("step 'draft': all models failed (1 attempts)\n"
         f"  - fast (openai/fast-model): unavailable: {KEY_NAME} is not set")


@pytest.fixture
def vaulted(runs_settings, database, stub, monkeypatch, tmp_path):
    monkeypatch.setenv("AGENT_FACTORY_SECRETS_KEY", Fernet.generate_key().decode())
    config = tmp_path / "agent-factory.toml"
    config.write_text(config_text(stub).replace(STUB_KEY_ENV, KEY_NAME), encoding="utf-8")
    settings = replace(runs_settings, config_path=config, runs=RunSettings(worker_concurrency=1, queue=QUEUE))
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        empty(database.owner)
        yield client


def _iso(at: datetime) -> str:
    """A time as the API writes it (UTC, `Z`)."""
    return at.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


def _run(client, team, agent_id):
    return client.post(f"/v1/agents/{agent_id}/runs?wait=true", json={"input": {"topic": "tea"}}, headers=team.auth).json()


def test_a_teams_provider_key_serves_its_runs_only_and_is_never_shown(vaulted, database):
    acme, globex = make_team(vaulted, "Acme", "ada@acme.test"), make_team(vaulted, "Globex", "hank@globex.test")
    mine, theirs = agent(vaulted, acme), agent(vaulted, globex)
    before = _run(vaulted, acme, mine["id"])
    assert (before["status"], before["error"]) == ("error", UNSET)
    stored = vaulted.put(f"/v1/secrets/{KEY_NAME}", json={"value": SECRET}, headers=acme.auth)
    assert stored.status_code == 204
    listed = vaulted.get("/v1/secrets", headers=acme.auth).json()
    (created, updated), = owner_sql(database, "SELECT created_at, updated_at FROM team_secrets")
    assert listed == [{"name": KEY_NAME, "created_at": _iso(created), "updated_at": _iso(updated)}]
    run = _run(vaulted, acme, mine["id"])
    assert (run["status"], run["output"]) == ("success", {"text": "polished Polish rough tea"})
    other = _run(vaulted, globex, theirs["id"])
    assert (other["status"], other["error"]) == ("error", UNSET)
    assert vaulted.get("/v1/secrets", headers=globex.auth).json() == []
    refused = vaulted.delete(f"/v1/secrets/{KEY_NAME}", headers=globex.auth)
    assert (refused.status_code, refused.json()) == (404, {"error": "not_found", "detail": "no such secret"})
    (ciphertext,), = owner_sql(database, "SELECT ciphertext FROM team_secrets")
    assert SECRET.encode() not in bytes(ciphertext)
    assert Vault.from_environment().open(UUID(acme.id), KEY_NAME, ciphertext) == SECRET  # sealed, for acme's row
    everything = owner_sql(database, "SELECT r::text FROM runs r") + owner_sql(database, "SELECT e::text FROM run_events e")
    assert not [row for row in everything if SECRET in row[0]]


def test_a_ciphertext_moved_to_another_team_does_not_decrypt_there(vaulted, database):
    acme, globex = make_team(vaulted, "Acme", "ada@acme.test"), make_team(vaulted, "Globex", "hank@globex.test")
    theirs = agent(vaulted, globex)
    vaulted.put(f"/v1/secrets/{KEY_NAME}", json={"value": SECRET}, headers=acme.auth)
    owner_sql(database, "INSERT INTO team_secrets (team_id, name, ciphertext) SELECT %s, name, ciphertext FROM team_secrets",
              globex.id)
    run = _run(vaulted, globex, theirs["id"])
    assert (run["status"], run["error"]) == ("error", UNSET)


def test_without_a_server_key_secrets_are_refused_with_503(settings, database, monkeypatch):
    monkeypatch.delenv("AGENT_FACTORY_SECRETS_KEY")
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        empty(database.owner)
        acme = make_team(client, "Acme", "ada@acme.test")
        response = client.put(f"/v1/secrets/{KEY_NAME}", json={"value": SECRET}, headers=acme.auth)
        bad_name = client.put("/v1/secrets/lower-case", json={"value": SECRET}, headers=acme.auth)
    assert response.status_code == 503
    assert response.json() == {"error": "unavailable",
                               "detail": "this server stores no secrets: set AGENT_FACTORY_SECRETS_KEY (a Fernet key) where it runs"}
    assert (bad_name.status_code, bad_name.json()) == (422, {"error": "invalid_request", "detail": [
        {"loc": ["path", "name"], "message": "String should match pattern '^[A-Z][A-Z0-9_]{0,63}$'",
         "type": "string_pattern_mismatch"}]})
