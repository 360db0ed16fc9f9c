"""`agent-factory serve` on the embedded PostgreSQL from a clean data dir: it starts, migrates,
answers `/ready`, prints a bootstrap key once, lets `admin` work beside it, and keeps everything
across a restart."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
CLI = [sys.executable, "-c", "from agent_factory.cli import main; main()"]
KEY_LINE = re.compile(r"bootstrap admin key of team `default` \(owner admin@localhost\), shown once: (agf_\S+)")


def _embedded_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "DATABASE_APP_URL", "AGENT_FACTORY_DATA_DIR")}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def serving(data_dir: Path, stop: signal.Signals = signal.SIGINT):
    port = _free_port()
    proc = subprocess.Popen([*CLI, "serve", "--port", str(port), "--data-dir", str(data_dir)], env=_embedded_env(),
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=ROOT)
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(iter(proc.stdout.readline, "")), daemon=True)
    reader.start()
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(url, proc, lines)
        yield url, lines
    finally:
        proc.send_signal(stop)
        assert proc.wait(60) == 0, "".join(lines)
        reader.join(5)


def _wait_ready(url: str, proc: subprocess.Popen, lines: list[str]) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        assert proc.poll() is None, "serve exited:\n" + "".join(lines)
        try:
            if httpx.get(f"{url}/ready", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise AssertionError("serve was not ready in 90 s:\n" + "".join(lines))


@pytest.fixture
def data_dir():
    """A fresh data dir outside pytest's private temporary folder (PostgreSQL runs as another
    user when the tests run as root), removed afterwards whatever happened."""
    folder = Path(tempfile.mkdtemp(prefix="af-serve-"))
    yield folder / "data"
    shutil.rmtree(folder, ignore_errors=True)


@pytest.mark.slow
def test_serve_starts_from_a_clean_data_dir_and_keeps_its_data_across_a_restart(data_dir, market_research):
    data = data_dir
    with serving(data) as (url, lines):
        ready = httpx.get(f"{url}/ready").json()
        assert ready == {"status": "ready", "migrations": ["0001_initial", "0010_runs", "0011_team_secrets", "0012_agent_read", "0013_run_worker", "0013_run_worker_plans", "0014_run_start",
                                        "0016_member_consent"]}
        key = KEY_LINE.search("".join(lines)).group(1)
        assert f"data dir: {data.resolve()} (embedded PostgreSQL)\n" in lines
        created = httpx.post(f"{url}/v1/agents", json={"spec": market_research}, headers={"X-Api-Key": key})
        assert created.status_code == 201
        agent_id = created.json()["id"]
        second = subprocess.run([*CLI, "admin", "create-team", "Second", "--owner", "sam@second.test", "--data-dir", str(data),
                                 "--format", "json"], env=_embedded_env(), capture_output=True, text=True, timeout=120)
        assert second.returncode == 0, second.stderr
        other_key = json.loads(second.stdout)["key"]
        assert httpx.get(f"{url}/v1/agents/{agent_id}", headers={"X-Api-Key": other_key}).status_code == 404
    assert lines[-1] == "stopped\n"
    assert not (data / "pgdata" / "postmaster.pid").exists(), "the embedded PostgreSQL is stopped with serve"
    with serving(data, stop=signal.SIGTERM) as (url, lines):
        assert KEY_LINE.search("".join(lines)) is None, "the bootstrap key is printed on the first start only"
        again = httpx.get(f"{url}/v1/agents/{agent_id}", headers={"X-Api-Key": key})
        assert (again.status_code, again.json()["version"]) == (200, 1)
        assert httpx.get(f"{url}/v1/teams/me", headers={"X-Api-Key": other_key}).json()["name"] == "Second"
    assert not (data / "pgdata" / "postmaster.pid").exists()


@contextmanager
def serving_url(database_url: str):
    port = _free_port()
    env = {**_embedded_env(), "DATABASE_URL": database_url}
    proc = subprocess.Popen([*CLI, "serve", "--port", str(port)], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, cwd=ROOT)
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(iter(proc.stdout.readline, "")), daemon=True)
    reader.start()
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(url, proc, lines)
        yield url, lines
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(60) == 0, "".join(lines)
        reader.join(5)


def test_serve_on_database_url_connects_as_the_app_role_and_bootstraps_an_empty_database(client, database):
    with serving_url(database.owner) as (url, lines):
        key = KEY_LINE.search("".join(lines)).group(1)
        assert not any(line.startswith("data dir:") for line in lines)
        assert f"database: {database.app}\n" in lines
        assert httpx.get(f"{url}/v1/teams/me", headers={"X-Api-Key": key}).json()["name"] == "default"
    assert lines[-1] == "stopped\n"
