"""Bench: `GET /v1/agents/{id}` through the whole stack against a bare route doing the same read.

The whole stack is the platform app: key authentication, the tenant transaction, row-level
security, the repository's query and the response model. The baseline is a bare FastAPI app
whose one route runs the same single-row SELECT on an asyncpg pool (as the owner role, without a
transaction) and returns the row as JSON. Each runs alone under uvicorn on 127.0.0.1 in its own
process; the same client (httpx, concurrency 10) measures both, one after the other.

    python bench/bench_api.py [--requests 3000] [--concurrency 10] [--rounds 2]

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

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

BARE_QUERY = """
SELECT a.id, a.name, a.kind, a.description, a.latest_version AS version, a.created_at, a.updated_at,
       v.spec_sha256, v.summary, v.diagnostics
  FROM agents a JOIN agent_versions v ON v.agent_id = a.id AND v.version = a.latest_version
 WHERE a.id = $1 AND a.deleted_at IS NULL
"""


def bare_app(owner_url: str):
    """The baseline: one route, one pooled SELECT, the row as JSON."""
    from contextlib import asynccontextmanager
    from uuid import UUID

    from fastapi import FastAPI

    from agent_factory.platform.db.pool import create_pool

    @asynccontextmanager
    async def lifespan(app):
        app.state.pool = await create_pool(owner_url, 1, 10)
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
def child(kind: str, urls) -> str:
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
        yield url
    finally:
        proc.terminate()
        proc.wait(10)


async def measure(url: str, headers: dict[str, str], requests: int, concurrency: int) -> list[float]:
    """Latencies in ms of `requests` GETs of `url`, `concurrency` at a time (after a warm-up)."""
    latencies: list[float] = []
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(headers=headers, limits=limits, timeout=30) as client:
        for _ in range(200):
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
    with child("whole", urls) as url:
        created = httpx.post(f"{url}/v1/agents", json={"spec": spec}, headers={"X-Api-Key": key}, timeout=60)
        created.raise_for_status()
    return key, created.json()["id"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=2, help="alternate bare/whole this many times; the best round counts")
    parser.add_argument("--child", choices=["bare", "whole"], help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return serve_child(args.child, args.port)
    with ExitStack() as stack:
        urls = stack.enter_context(database())
        key, agent_id = setup(urls)
        results: dict[str, list[tuple[float, float]]] = {"bare": [], "whole": []}
        for _ in range(args.rounds):
            for kind in ("bare", "whole"):
                with child(kind, urls) as url:
                    path = f"/bare/{agent_id}" if kind == "bare" else f"/v1/agents/{agent_id}"
                    latencies = asyncio.run(measure(url + path, {"X-Api-Key": key}, args.requests, args.concurrency))
                results[kind].append((percentile(latencies, 50), percentile(latencies, 95)))
    best = {kind: min(rounds) for kind, rounds in results.items()}
    (bare50, bare95), (whole50, whole95) = best["bare"], best["whole"]
    print(f"GET one agent, {args.requests} requests at concurrency {args.concurrency}, best of {args.rounds} rounds")
    print(f"{'':8}{'p50 ms':>10}{'p95 ms':>10}")
    print(f"{'bare':8}{bare50:>10.2f}{bare95:>10.2f}")
    print(f"{'whole':8}{whole50:>10.2f}{whole95:>10.2f}")
    print(f"ratio   {whole50 / bare50:>10.2f}{whole95 / bare95:>10.2f}   (target <= 1.30; whole p95 < 20 ms)")
    print(json.dumps({"bare": {"p50": bare50, "p95": bare95}, "whole": {"p50": whole50, "p95": whole95},
                      "ratio_p50": whole50 / bare50, "ratio_p95": whole95 / bare95}))


if __name__ == "__main__":
    main()
