"""Quotas hold under concurrency: the monthly run quota and the spend ceiling are reserved
atomically before a run is queued; rate limits answer 429 with their headers."""

from __future__ import annotations

import asyncio
import threading
from dataclasses import replace
from decimal import Decimal
from uuid import uuid4

import httpx
from fastapi.testclient import TestClient

from agent_factory.platform.app import create_app
from agent_factory.platform.settings import RunSettings
from conftest import empty, make_team
from hosted_runs import agent, owner_sql, until


def _concurrently(client: TestClient, requests: list[tuple[str, str, dict]]) -> list[httpx.Response]:
    """Send the requests at once to the app, on its own event loop. The tests judge what is
    accepted, not how fast: httpx's 5 s default would fail them on a loaded machine."""

    async def send_all():
        transport = httpx.ASGITransport(app=client.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test", timeout=60) as http:
            return await asyncio.gather(*(http.request(m, url, **kw) for m, url, kw in requests))

    return client.portal.call(send_all)


def test_fifty_concurrent_runs_against_a_quota_of_five_accept_exactly_five(hosted, database):
    team = make_team(hosted, "Acme", "ada@acme.test")
    created = agent(hosted, team)
    owner_sql(database, "INSERT INTO team_limits (team_id, runs_per_month) VALUES (%s, 5)", team.id)
    request = ("POST", f"/v1/agents/{created['id']}/runs", {"json": {"input": {"topic": "tea"}}, "headers": team.auth})
    responses = _concurrently(hosted, [request] * 50)
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [202] * 5 + [402] * 45
    refused = next(r for r in responses if r.status_code == 402)
    assert refused.json() == {"error": "quota_exceeded", "detail": "the team used its 5 runs for this month (plan `free`)"}
    assert owner_sql(database, "SELECT runs FROM team_usage WHERE team_id = %s", team.id) == [(5,)]
    assert len(hosted.get("/v1/runs", headers=team.auth).json()) == 5


def test_concurrent_runs_never_hold_more_than_the_spend_ceiling(hosted, database, script):
    team = make_team(hosted, "Acme", "ada@acme.test")
    created = agent(hosted, team)
    worst = owner_sql(database, "SELECT cost_usd_max FROM agent_versions WHERE agent_id = %s", created["id"])[0][0]
    owner_sql(database, "INSERT INTO team_limits (team_id, spend_ceiling_usd) VALUES (%s, %s)", team.id, worst * 3)
    # the accepted runs wait in their first model call until every request was answered: a run that
    # ended during the burst would give its reservation back, and a later request would rightly get it
    script.hold["draft"] = threading.Event()
    request = ("POST", f"/v1/agents/{created['id']}/runs", {"json": {"input": {"topic": "tea"}}, "headers": team.auth})
    responses = _concurrently(hosted, [request] * 12)
    script.hold["draft"].set()
    assert sorted(r.status_code for r in responses) == [202] * 3 + [402] * 9
    until(lambda: all(r["status"] == "success" for r in hosted.get("/v1/runs", headers=team.auth).json()))
    (reserved, spent), = owner_sql(database, "SELECT spend_reserved_usd, spend_usd FROM team_usage WHERE team_id = %s", team.id)
    assert (reserved, spent) == (Decimal(0), Decimal("0.000120"))  # three runs of two calls at $0.00002
    assert spent <= worst * 3


def test_a_run_that_fails_before_any_model_call_gives_its_run_back(hosted, database, script):
    team = make_team(hosted, "Acme", "ada@acme.test")
    created = agent(hosted, team)
    thread = hosted.post("/v1/threads", json={}, headers=team.auth).json()
    # resuming a thread that never ran fails at once, before any model call
    run = hosted.post(f"/v1/agents/{created['id']}/runs?wait=true", json={"thread_id": thread["id"]}, headers=team.auth).json()
    assert (run["status"], run["ledger"]) == ("error", [])
    assert owner_sql(database, "SELECT runs FROM team_usage WHERE team_id = %s", team.id) == [(0,)]
    assert hosted.get(f"/v1/threads/{thread['id']}", headers=team.auth).json()["status"] == "error"


def test_past_the_rate_limit_runs_get_429_with_retry_after_and_ratelimit_headers(runs_settings, database):
    settings = replace(runs_settings, runs=RunSettings(rate_limits={"free": "3/minute"}))
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        empty(database.owner)
        team = make_team(client, "Acme", "ada@acme.test")
        created = agent(client, team)
        answers = [client.post(f"/v1/agents/{created['id']}/runs", json={"input": {"topic": "t"}}, headers=team.auth)
                   for _ in range(4)]
        # past the rate, a request is refused before it is looked at: its inputs, agent and thread are not
        unread = [client.post(f"/v1/agents/{created['id']}/runs", json={"input": {"topik": "t"}}, headers=team.auth),
                  client.post(f"/v1/agents/{uuid4()}/runs", json={"input": {"topic": "t"}}, headers=team.auth),
                  client.post(f"/v1/agents/{created['id']}/runs", json={"thread_id": str(uuid4())}, headers=team.auth)]
    # this app has no worker: end its runs here rather than leave them to another test's worker
    owner_sql(database, "UPDATE runs SET status = 'interrupted', cancel_requested = true WHERE status = 'pending'")
    assert [a.status_code for a in answers + unread] == [202, 202, 202, 429, 429, 429, 429]
    assert [a.headers["RateLimit-Remaining"] for a in answers + unread] == ["2", "1", "0", "0", "0", "0", "0"]
    for refused in answers[-1:] + unread:
        retry = refused.headers["Retry-After"]
        assert 1 <= int(retry) <= 60
        assert refused.json() == {"error": "rate_limited",
                                  "detail": f"rate limit of the `free` plan reached (3 runs per 60 s); retry in {retry} s"}
        assert (refused.headers["RateLimit-Limit"], refused.headers["RateLimit-Policy"]) == ("3", "3;w=60")
    assert owner_sql(database, "SELECT count(*) FROM runs") == [(3,)]
    assert owner_sql(database, "SELECT runs FROM team_usage WHERE team_id = %s", team.id) == [(3,)]
