"""Fixtures of the hosted-runs tests: the API with an in-process worker over the test database,
a stub LLM on 127.0.0.1 answering per step, and a two-step agent. Import the fixtures by name."""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Iterator
from dataclasses import replace

import psycopg
import pytest
from fastapi.testclient import TestClient

from agent_factory.platform.app import create_app
from agent_factory.platform.settings import RunSettings
from agent_factory.testing import StubLLM, error, reply
from agent_factory.testing.specs import TWO_STEPS
from conftest import empty  # imported while the platform's conftest loads: its module is `conftest` then

os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"
STUB_KEY_ENV = "AF_TEST_STUB_API_KEY"
os.environ[STUB_KEY_ENV] = "stub-key"
# every test server stores secrets (the API's operations all work); one test removes it
os.environ.setdefault("AGENT_FACTORY_SECRETS_KEY", "PLtHL0E7lv2kqFJ-hbMU-LOjwCS1v3Wxw8l0uB6F8zA=")



class Script:
    """The stub model's answers per step: `hold` makes a step wait until released, `fail` fails it."""

    def __init__(self) -> None:
        self.fail: set[str] = set()
        self.hold: dict[str, threading.Event] = {}
        self.seen: list[str] = []
        self.delay_s = 0.0

    def __call__(self, body):
        step = body["response_format"]["json_schema"]["name"]
        self.seen.append(step)
        if step in self.hold:
            self.hold[step].wait(30)
        if self.delay_s:
            time.sleep(self.delay_s)
        if step in self.fail:
            return error(500, f"{step} is down")
        prompt = body["messages"][-1]["content"]
        if step == "draft":
            return reply(json.dumps({"rough": f"rough {prompt.split()[-1]}"}), prompt_tokens=10, completion_tokens=5)
        return reply(json.dumps({"text": f"polished {prompt}"}), prompt_tokens=10, completion_tokens=5)

    def reset(self) -> None:
        for event in self.hold.values():
            event.set()
        self.fail.clear()
        self.hold.clear()
        self.seen.clear()
        self.delay_s = 0.0


@pytest.fixture(scope="session")
def script() -> Script:
    return Script()


@pytest.fixture(scope="session")
def stub(script) -> Iterator[StubLLM]:
    with StubLLM(script) as server:
        yield server


def config_text(stub: StubLLM) -> str:
    """The operator's agent-factory.toml: one stub alias in every tier."""
    tiers = "".join(f'[tiers.{t}]\nmodels = ["fast"]\nmax_cost_per_request = 0.25\nmax_cost_per_run = 2.00\n\n'
                    for t in ("free", "pro", "enterprise"))
    return (f'[router]\nfallback = []\ndefault_tier = "free"\ncooldown_seconds = 0\n\n'
            f'[models.fast]\nmodel = "openai/fast-model"\napi_base = "{stub.base_url}"\napi_key_env = "{STUB_KEY_ENV}"\n'
            f'input_cost_per_token = 0.000001\noutput_cost_per_token = 0.000002\ntasks = ["simple", "research"]\n\n{tiers}')


@pytest.fixture(scope="session")
def runs_settings(settings, stub, tmp_path_factory):
    path = tmp_path_factory.mktemp("runs") / "agent-factory.toml"
    path.write_text(config_text(stub), encoding="utf-8")
    return replace(settings, config_path=path,
                   runs=RunSettings(worker_concurrency=2, heartbeat_s=0.3, stalled_after_s=20.0,
                                    rate_limits={"free": "1000/minute", "pro": "1000/minute", "enterprise": "1000/minute"}))


@pytest.fixture(scope="session")
def hosted_app(runs_settings) -> Iterator[TestClient]:
    with TestClient(create_app(runs_settings), raise_server_exceptions=False) as client:
        yield client


@pytest.fixture
def hosted(hosted_app, database, script) -> Iterator[TestClient]:
    """The API with its worker, over an empty database, the stub answering normally."""
    script.reset()
    empty(database.owner)
    hosted_app.headers.clear()
    yield hosted_app
    settle(database, script)


def settle(database, script: Script) -> None:
    """Let the runs a test left behind end, so emptying the database never races a worker."""
    script.reset()
    until(lambda: not owner_sql(database, "SELECT 1 FROM runs WHERE status IN ('pending', 'running') LIMIT 1"), 30)


def agent(client: TestClient, team, spec: str = TWO_STEPS) -> dict:
    response = client.post("/v1/agents", json={"spec": spec}, headers=team.auth)
    assert response.status_code == 201, response.text
    return response.json()


def ended(client, team, run_id):
    """The run once it has ended (None while pending or running): for `until`."""
    run = client.get(f"/v1/runs/{run_id}", headers=team.auth).json()
    return run if run["status"] not in ("pending", "running") else None


def until(predicate, timeout: float = 20.0, every: float = 0.05):
    """Poll `predicate` until it returns something truthy (fails the test on timeout)."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(every)


def owner_sql(database, sql: str, *params):
    with psycopg.connect(database.owner, autocommit=True) as conn:
        cursor = conn.execute(sql, params)
        return cursor.fetchall() if cursor.description else None


def chat_and_values(values: dict) -> tuple[list, dict]:
    """The contents of a state's `messages` (the chat view), and the other values."""
    rest = {k: v for k, v in values.items() if k != "messages"}
    return [m["content"] for m in values.get("messages", [])], rest
