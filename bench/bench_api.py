"""Bench: `GET /v1/agents/{id}` through the whole stack against a bare route doing the same read.

The whole stack is the platform app: key authentication, the tenant transaction, row-level
security, the repository's query and the response model. The baseline is a bare FastAPI app
whose one route runs the same single-row SELECT on a default asyncpg pool (as the owner role,
without a transaction) and returns the row as JSON. Each runs alone under uvicorn on 127.0.0.1 in its own
process; the same client (httpx, concurrency 10) measures both, one after the other.

    python bench/bench_api.py [--quick] [--requests 2000] [--concurrency 10] [--rounds 5]

Uses DATABASE_URL, else PostgreSQL on 127.0.0.1:5432 (database `test`, a bench database is made
from it), else the embedded server in a temporary folder. Prints p50/p95 of each and the ratio
whole/bare (target: ≤ 1.3 at p50 and p95; p95 under 20 ms).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack, contextmanager
from pathlib import Path
from uuid import UUID

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

WARMUP = 200
BARE_QUERY = """
SELECT a.id, a.name, a.kind, a.description, a.latest_version AS version, a.created_at, a.updated_at,
       v.spec_sha256, v.summary, v.diagnostics
  FROM agents a JOIN agent_versions v ON v.agent_id = a.id AND v.version = a.latest_version
 WHERE a.id = $1 AND a.deleted_at IS NULL
"""


def bare_app(owner_url: str):
    """The baseline: one route, one pooled SELECT, the row as JSON."""
    from contextlib import asynccontextmanager

    import asyncpg
    from fastapi import FastAPI

    from agent_factory.platform.db.pool import init_connection

    @asynccontextmanager
    async def lifespan(app):
        # asyncpg's own pool, as a plain FastAPI app would have it
        app.state.pool = await asyncpg.create_pool(owner_url, min_size=1, max_size=10, init=init_connection)
        yield
        await app.state.pool.close()

    app = FastAPI(lifespan=lifespan)

    @app.get("/bare/{agent_id}")
    async def read(agent_id: UUID) -> dict:
        row = await app.state.pool.fetchrow(BARE_QUERY, agent_id)
        return dict(row)

    return app


def whole_app(owner_url: str, app_url: str):
    from agent_factory.platform.app import create_app
    from agent_factory.platform.db.connect import DatabaseUrls
    from agent_factory.platform.settings import Settings

    return create_app(Settings(database=DatabaseUrls(owner=owner_url, app=app_url)))


def serve_child(kind: str, port: int) -> None:
    import uvicorn

    owner, app_url = os.environ["BENCH_OWNER_URL"], os.environ["BENCH_APP_URL"]
    app = bare_app(owner) if kind == "bare" else whole_app(owner, app_url)
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


@contextmanager
def database():
    """Owner and app URLs of a migrated database for the bench."""
    from agent_factory.platform.db.connect import from_environment, open_database, with_user
    from agent_factory.platform.db.migrate import APP_ROLE

    configured = from_environment(os.environ)
    if configured is not None:
        yield configured
        return
    server = "postgresql://postgres@127.0.0.1:5432/test"
    try:
        import psycopg

        name = f"af_bench_{os.getpid()}"
        with psycopg.connect(server, autocommit=True, connect_timeout=2) as conn:
            conn.execute(f"CREATE DATABASE {name}")
    except psycopg.OperationalError:
        with tempfile.TemporaryDirectory() as folder, open_database(Path(folder) / "data", env={}) as urls:
            yield urls
        return
    from agent_factory.platform.db.connect import DatabaseUrls

    owner = with_user(server, "postgres", name)
    try:
        yield DatabaseUrls(owner=owner, app=with_user(owner, APP_ROLE))
    finally:
        with psycopg.connect(server, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@contextmanager
def child(kind: str, urls):
    """Start the `kind` server in its own process; yields (url, process)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {**os.environ, "BENCH_OWNER_URL": urls.owner, "BENCH_APP_URL": urls.app}
    proc = subprocess.Popen([sys.executable, __file__, "--child", kind, "--port", str(port)], env=env)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(f"{url}/docs", timeout=1)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise SystemExit(f"the {kind} server did not start")
                time.sleep(0.1)
        yield url, proc
    finally:
        proc.terminate()
        proc.wait(10)


async def measure(url: str, headers: dict[str, str], requests: int, concurrency: int) -> list[float]:
    """Latencies in ms of `requests` GETs of `url`, `concurrency` at a time (after a warm-up)."""
    latencies: list[float] = []
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(headers=headers, limits=limits, timeout=30) as client:
        for _ in range(WARMUP):
            (await client.get(url)).raise_for_status()
        queue = iter(range(requests))

        async def worker() -> None:
            for _ in queue:
                start = time.perf_counter()
                response = await client.get(url)
                latencies.append((time.perf_counter() - start) * 1000)
                response.raise_for_status()

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    return latencies


def percentile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[int(q) - 1]


def setup(urls) -> tuple[str, str]:
    """A team, its key and one stored agent; returns (key, agent id)."""
    from agent_factory.platform.admin import create_team
    from agent_factory.platform.db.migrate import upgrade

    upgrade(urls.owner)
    key = create_team(urls, "Bench", "bench@bench.test")["key"]["key"]
    spec = (ROOT / "specs/market_research.md").read_text(encoding="utf-8")
    with child("whole", urls) as (url, _):
        created = httpx.post(f"{url}/v1/agents", json={"spec": spec}, headers={"X-Api-Key": key}, timeout=60)
        created.raise_for_status()
    return key, created.json()["id"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=5, help="bare then whole, this many times; the median ratio counts")
    parser.add_argument("--quick", action="store_true", help="a smoke run: 2 rounds of 500 requests")
    parser.add_argument("--child", choices=["bare", "whole"], help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return serve_child(args.child, args.port)
    if args.quick:
        args.rounds, args.requests = 2, 500
    with ExitStack() as stack:
        urls = stack.enter_context(database())
        key, agent_id = setup(urls)
        rounds = [run_round(urls, key, agent_id, args) for _ in range(args.rounds)]
    report(rounds, args)


def run_round(urls, key: str, agent_id: str, args) -> dict[str, tuple[float, float, float]]:
    """One round: the bare server, then the whole stack, back to back (similar machine load).
    Per server: p50 and p95 latency (ms) and the server process's CPU time per request (ms),
    which the load of other processes on the machine disturbs much less than latency."""
    import psutil

    found = {}
    for kind in ("bare", "whole"):
        with child(kind, urls) as (url, proc):
            path = f"/bare/{agent_id}" if kind == "bare" else f"/v1/agents/{agent_id}"
            server = psutil.Process(proc.pid)
            before = sum(server.cpu_times()[:2])
            latencies = asyncio.run(measure(url + path, {"X-Api-Key": key}, args.requests, args.concurrency))
            cpu = (sum(server.cpu_times()[:2]) - before) * 1000 / (args.requests + WARMUP)
        found[kind] = (percentile(latencies, 50), percentile(latencies, 95), cpu)
    return found


def report(rounds: list[dict[str, tuple[float, float, float]]], args) -> None:
    """Each round's figures, then the median of the per-round ratios (the machine's load moves
    between rounds; within a round both servers see about the same)."""
    import os as _os

    import platform

    print(f"Python {platform.python_version()}, {_os.cpu_count()} CPUs, load average {_os.getloadavg()[0]:.1f}")
    print(f"GET one agent: {args.requests} requests at concurrency {args.concurrency}, {len(rounds)} rounds")
    print(f"{'round':>5}{'bare p50':>10}{'p95':>8}{'cpu':>7}{'whole p50':>11}{'p95':>8}{'cpu':>7}{'ratio p50':>11}{'p95':>7}{'cpu':>7}")
    for n, r in enumerate(rounds, 1):
        b, w = r["bare"], r["whole"]
        print(f"{n:>5}{b[0]:>10.2f}{b[1]:>8.2f}{b[2]:>7.2f}{w[0]:>11.2f}{w[1]:>8.2f}{w[2]:>7.2f}"
              f"{w[0] / b[0]:>11.2f}{w[1] / b[1]:>7.2f}{w[2] / b[2]:>7.2f}")
    ratios = [statistics.median(r["whole"][i] / r["bare"][i] for r in rounds) for i in range(3)]
    whole95 = statistics.median(r["whole"][1] for r in rounds)
    print(f"median ratio whole/bare: p50 {ratios[0]:.2f}, p95 {ratios[1]:.2f}, server CPU per request {ratios[2]:.2f} "
          f"(target <= 1.30); whole p95 {whole95:.2f} ms (target < 20)")
    print(json.dumps({"rounds": rounds, "ratio_p50": ratios[0], "ratio_p95": ratios[1], "ratio_cpu": ratios[2],
                      "whole_p95_ms": whole95}))


if __name__ == "__main__":
    main()
