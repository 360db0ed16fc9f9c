"""Agents from specs through the API: create, read, list, version, delete, check."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import httpx


def test_posting_a_clean_spec_creates_version_one_with_schemas_and_cost(client, two_teams, market_research):
    acme, _ = two_teams
    response = client.post("/v1/agents", json={"spec": market_research}, headers=acme.auth)
    assert response.status_code == 201, response.text
    agent = response.json()
    assert agent["name"] == "Market Research Agent"
    assert agent["kind"] == "agent"
    assert agent["version"] == 1
    assert agent["inputs_schema"]["required"] == ["query"]
    assert agent["outputs_schema"]["properties"]["confidence"] == {
        "description": "how sure the agent is", "maximum": 1.0, "minimum": 0.0, "title": "Confidence", "type": "number"}
    assert agent["cost_estimate"]["max_cost_per_run"] == "0.050000"
    assert client.get(f"/v1/agents/{agent['id']}", headers=acme.auth).json() == agent


BROKEN = """---
id: broken
---
# Agent: Broken

## Purpose
Shows what a spec with errors gets back.

## Inputs
- query: strng — the question

## Outputs
- answer: str — the answer
"""


def test_a_spec_with_errors_is_refused_with_the_diagnostics_of_check(client, two_teams):
    acme, _ = two_teams
    response = client.post("/v1/agents", content=BROKEN, headers={**acme.auth, "Content-Type": "text/markdown"})
    assert response.status_code == 422
    assert response.json() == {"error": "spec_invalid", "detail": [{
        "code": "E022", "severity": "error", "message": "unknown type `strng`", "file": "spec.md",
        "line": 10, "column": 10, "end_line": 10, "end_column": 15, "hint": "did you mean `str`?"}]}
    assert client.get("/v1/agents", headers=acme.auth).json() == {"items": [], "next_cursor": None}


def test_check_reports_without_storing(client, two_teams, market_research):
    acme, _ = two_teams
    clean = client.post("/v1/check", json={"spec": market_research}, headers=acme.auth)
    broken = client.post("/v1/check", json={"spec": BROKEN}, headers=acme.auth)
    assert clean.json() == {"ok": True, "diagnostics": []}
    assert broken.status_code == 200
    assert broken.json()["ok"] is False
    assert [d["code"] for d in broken.json()["diagnostics"]] == ["E022"]
    assert client.get("/v1/agents", headers=acme.auth).json()["items"] == []


def test_put_adds_a_version_and_the_same_text_keeps_it(client, two_teams, market_research):
    acme, _ = two_teams
    agent = client.post("/v1/agents", json={"spec": market_research}, headers=acme.auth).json()
    same = client.put(f"/v1/agents/{agent['id']}", json={"spec": market_research}, headers=acme.auth)
    assert same.status_code == 200 and same.json()["version"] == 1
    changed = market_research.replace("always cites", "always carefully cites")
    second = client.put(f"/v1/agents/{agent['id']}", content=changed, headers={**acme.auth, "Content-Type": "text/markdown"})
    assert second.json()["version"] == 2
    assert second.json()["description"] == "Answers questions about market trends and always carefully cites where each claim comes from."
    versions = client.get(f"/v1/agents/{agent['id']}/versions", headers=acme.auth).json()
    assert [v["version"] for v in versions] == [1, 2]
    first = client.get(f"/v1/agents/{agent['id']}/versions/1", headers=acme.auth).json()
    assert first["spec"] == market_research
    assert first["ir"]["spec"]["name"] == "Market Research Agent"


def test_a_second_agent_with_the_same_name_conflicts(client, two_teams, market_research):
    acme, globex = two_teams
    first = client.post("/v1/agents", json={"spec": market_research}, headers=acme.auth).json()
    again = client.post("/v1/agents", json={"spec": market_research}, headers=acme.auth)
    assert again.status_code == 409
    assert again.json() == {"error": "conflict", "detail": f"an agent named `Market Research Agent` exists ({first['id']}); "
                                                           f"PUT /v1/agents/{first['id']} adds a version"}
    assert client.post("/v1/agents", json={"spec": market_research}, headers=globex.auth).status_code == 201


def test_deleted_agents_are_gone_from_the_api(client, two_teams, market_research):
    acme, _ = two_teams
    agent = client.post("/v1/agents", json={"spec": market_research}, headers=acme.auth).json()
    assert client.delete(f"/v1/agents/{agent['id']}", headers=acme.auth).status_code == 204
    assert client.get(f"/v1/agents/{agent['id']}", headers=acme.auth).json() == {"error": "not_found", "detail": "no such agent"}
    assert client.delete(f"/v1/agents/{agent['id']}", headers=acme.auth).status_code == 404
    assert client.post("/v1/agents", json={"spec": market_research}, headers=acme.auth).status_code == 201


def _spec(name: str, purpose: str) -> str:
    return f"""# Agent: {name}

## Purpose
{purpose}

## Inputs
- query: str — the question

## Outputs
- answer: str — the answer
"""


def test_listing_pages_with_a_cursor_and_filters_by_name_kind_and_words(client, two_teams):
    acme, _ = two_teams
    names = [f"Helper {word}" for word in ("Alpha", "Bravo", "Charlie", "Delta", "Echo")]
    for n, name in enumerate(names):
        purpose = "Finds cheap flights." if n == 3 else "Answers questions."
        assert client.post("/v1/agents", json={"spec": _spec(name, purpose)}, headers=acme.auth).status_code == 201
    first = client.get("/v1/agents?limit=2", headers=acme.auth).json()
    second = client.get(f"/v1/agents?limit=2&cursor={first['next_cursor']}", headers=acme.auth).json()
    third = client.get(f"/v1/agents?limit=2&cursor={second['next_cursor']}", headers=acme.auth).json()
    assert [a["name"] for a in first["items"] + second["items"] + third["items"]] == names
    assert third["next_cursor"] is None
    assert [a["name"] for a in client.get("/v1/agents?name=Helper Charlie", headers=acme.auth).json()["items"]] == ["Helper Charlie"]
    assert [a["name"] for a in client.get("/v1/agents?q=flights", headers=acme.auth).json()["items"]] == ["Helper Delta"]
    assert client.get("/v1/agents?kind=team", headers=acme.auth).json()["items"] == []
    bad = client.get("/v1/agents?cursor=nonsense", headers=acme.auth)
    assert bad.status_code == 422
    assert bad.json() == {"error": "invalid_request", "detail": "invalid cursor: pass the `next_cursor` of the previous page unchanged"}


def test_concurrent_posts_of_one_name_store_one_agent_and_conflict_the_rest(client, live_server, two_teams, market_research):
    acme, _ = two_teams

    def post(_):
        return httpx.post(f"{live_server.url}/v1/agents", json={"spec": market_research}, headers=acme.auth, timeout=60)

    with ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(post, range(4)))
    assert sorted(a.status_code for a in answers) == [201, 409, 409, 409], [a.text for a in answers]
    assert all(a.json()["error"] == "conflict" for a in answers if a.status_code == 409)
    assert len(client.get("/v1/agents", headers=acme.auth).json()["items"]) == 1
