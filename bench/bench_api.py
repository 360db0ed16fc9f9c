"""Bench: `GET /v1/agents/{id}` through the whole stack against a bare route doing the same read.

The whole stack is the platform app: key authentication, the tenant (set for the transaction of
the endpoint's one statement, `af_agent_read`), row-level security, the query and the response
model. The baseline is a bare FastAPI app
whose one route runs the same single-row SELECT on a default asyncpg pool (as the owner role,
without a transaction) and returns the row as JSON. Each runs under uvicorn on 127.0.0.1 in its
own process with the same settings; both stay up for the whole run and are measured one at a
time, alternating (the order flips every round), by the same client at the same concurrency.

The client is `wrk` when it is on PATH (C, one thread: it leaves the cores to the servers), else
a lean asyncio HTTP/1.1 client in this process (keep-alive connections driven by callbacks);
`--client` chooses. The report names the client, the event loop and HTTP parser of the servers,
and the load average before and after.

    python bench/bench_api.py [--quick] [--seconds 8] [--rounds 5] [--concurrency 10]
                              [--client auto|wrk|python] [--pin] [--unix-socket DIR]
                              [--loop auto|asyncio|uvloop] [--http auto|h11|httptools]

Uses DATABASE_URL, else PostgreSQL on 127.0.0.1:5432 (database `test`, a bench database is made
from it), else the embedded server in a temporary folder. `--unix-socket DIR` connects both
servers to that PostgreSQL through its Unix socket in DIR instead of TCP (the embedded server
listens on a Unix socket only). `--pin` runs the servers on CPU 0 and the client on CPU 1.
Prints, per round and server, p50/p95 latency and the CPU time per request of the server process,
of its PostgreSQL backends and of the client; then the medians of the per-round ratios
whole/bare (target: <= 1.3 at p50 and p95) and the whole stack's p95 (target: under 20 ms).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit
from uuid import UUID

import httpx
import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

WARMUP_SECONDS = 1.0
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


def uvicorn_choices(loop: str = "auto", http: str = "auto") -> dict[str, str]:
    """The event loop and HTTP parser both servers run with: what uvicorn's `auto` picks here
    (uvloop and httptools when installed, as for `agent-factory serve`) unless one is named."""
    from importlib.util import find_spec

    return {"loop": loop if loop != "auto" else "uvloop" if find_spec("uvloop") else "asyncio",
            "http": http if http != "auto" else "httptools" if find_spec("httptools") else "h11"}


def serve_child(kind: str, port: int) -> None:
    import uvicorn

    owner, app_url = os.environ["BENCH_OWNER_URL"], os.environ["BENCH_APP_URL"]
    app = bare_app(owner) if kind == "bare" else whole_app(owner, app_url)
    choices = uvicorn_choices(os.environ["BENCH_LOOP"], os.environ["BENCH_HTTP"])
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False, **choices)


@contextmanager
def database():
    """Owner and app URLs of a migrated database for the bench, and the database's name."""
    from agent_factory.platform.db.connect import DatabaseUrls, from_environment, open_database, with_user
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
    owner = with_user(server, "postgres", name)
    try:
        yield DatabaseUrls(owner=owner, app=with_user(owner, APP_ROLE))
    finally:
        with psycopg.connect(server, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def through_socket(url: str, socket_dir: str) -> str:
    """`url` connecting through the Unix socket in `socket_dir` (same user, database and port)."""
    parts = urlsplit(url)
    query = "&".join(q for q in (parts.query, f"host={socket_dir}", f"port={parts.port}" if parts.port else "") if q)
    return urlunsplit((parts.scheme, f"{parts.username}@", parts.path, query, ""))


@dataclass
class Server:
    kind: str
    url: str
    path: str
    process: subprocess.Popen

    def cpu(self) -> float:
        """CPU seconds (user + system) the server process has used."""
        return sum(psutil.Process(self.process.pid).cpu_times()[:2])


@contextmanager
def server(kind: str, urls, agent_id: str, cpu: int | None, choices: dict[str, str] | None = None):
    """The `kind` server in its own process (on CPU `cpu` when given), until the block ends."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    choices = choices or uvicorn_choices()
    env = {**os.environ, "BENCH_OWNER_URL": urls.owner, "BENCH_APP_URL": urls.app,
           "BENCH_LOOP": choices["loop"], "BENCH_HTTP": choices["http"]}
    proc = subprocess.Popen([sys.executable, __file__, "--child", kind, "--port", str(port)], env=env)
    if cpu is not None:
        os.sched_setaffinity(proc.pid, {cpu})
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
        yield Server(kind, url, f"/bare/{agent_id}" if kind == "bare" else f"/v1/agents/{agent_id}", proc)
    finally:
        proc.terminate()
        proc.wait(10)


@dataclass
class Sample:
    """One measurement of one server: latency percentiles (ms), requests, and CPU per request (ms)."""

    p50: float
    p95: float
    requests: int
    server_cpu: float = 0.0
    database_cpu: float = 0.0
    client_cpu: float = 0.0


# ---- clients -------------------------------------------------------------------------------

WRK_SCRIPT = """
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('BENCH {"requests": %d, "errors": %d, "p50_us": %d, "p95_us": %d}\\n',
    summary.requests, e.connect + e.read + e.write + e.status + e.timeout,
    latency:percentile(50), latency:percentile(95)))
end
"""


class WrkClient:
    """`wrk` with one thread and `concurrency` connections; the percentiles come from its histogram."""

    name = "wrk"

    def __init__(self, key: str, concurrency: int, cpu: int | None, folder: Path) -> None:
        self.key, self.concurrency, self.cpu = key, concurrency, cpu
        self.script = folder / "report.lua"
        self.script.write_text(WRK_SCRIPT, encoding="utf-8")

    def run(self, url: str, seconds: float) -> Sample:
        command = ["wrk", "-t1", f"-c{self.concurrency}", f"-d{max(1, round(seconds))}s", "--timeout", "10s",
                   "-H", f"X-Api-Key: {self.key}", "-s", str(self.script), url]
        if self.cpu is not None:
            command = ["taskset", "-c", str(self.cpu), *command]
        done = subprocess.run(command, capture_output=True, text=True)
        report = re.search(r"^BENCH (.*)$", done.stdout, re.M)
        if done.returncode != 0 or report is None:
            raise SystemExit(f"wrk failed: {done.stderr or done.stdout}")
        found = json.loads(report.group(1))
        if found["errors"]:
            raise SystemExit(f"wrk saw {found['errors']} errors or non-2xx answers from {url}:\n{done.stdout}")
        return Sample(found["p50_us"] / 1000, found["p95_us"] / 1000, found["requests"])

    @staticmethod
    def cpu_used() -> float:
        """CPU seconds of the finished wrk runs so far (this process's waited-for children)."""
        times = os.times()
        return times.children_user + times.children_system


class PythonClient:
    """HTTP/1.1 over `concurrency` keep-alive connections, each sending its next GET as soon as
    the previous answer is complete: callbacks on an asyncio protocol, no per-request coroutine,
    so the client costs the cores little (uvloop when installed)."""

    name = "python"

    def __init__(self, key: str, concurrency: int, cpu: int | None) -> None:
        self.key, self.concurrency = key, concurrency
        if cpu is not None:
            os.sched_setaffinity(0, {cpu})

    def run(self, url: str, seconds: float) -> Sample:
        latencies = _run_loop(self._measure(url, seconds))
        return Sample(_percentile(latencies, 50), _percentile(latencies, 95), len(latencies))

    @staticmethod
    def cpu_used() -> float:
        return time.process_time()

    async def _measure(self, url: str, seconds: float) -> list[float]:
        parts = urlsplit(url)
        request = f"GET {parts.path} HTTP/1.1\r\nHost: {parts.netloc}\r\nX-Api-Key: {self.key}\r\n\r\n".encode()
        loop = asyncio.get_running_loop()
        run = _Run(time.perf_counter() + seconds, self.concurrency, loop.create_future())
        connections = [await loop.create_connection(lambda: _KeepAlive(request, run), parts.hostname, parts.port)
                       for _ in range(self.concurrency)]
        for _, protocol in connections:
            protocol.send()
        try:
            await run.finished
        finally:
            for transport, _ in connections:
                transport.close()
        return run.latencies


@dataclass
class _Run:
    """What the connections of one timed run share."""

    stop_at: float
    open: int
    finished: asyncio.Future
    latencies: list[float] = field(default_factory=list)

    def fail(self, message: str) -> None:
        if not self.finished.done():
            self.finished.set_exception(SystemExit(message))


class _KeepAlive(asyncio.Protocol):
    """One connection: send, read one whole answer (status 200, Content-Length body), repeat
    until the run's time is up."""

    def __init__(self, request: bytes, run: _Run) -> None:
        self.request, self.run = request, run
        self.buffer = b""
        self.sent = 0.0

    def connection_made(self, transport) -> None:
        self.transport = transport

    def send(self) -> None:
        self.buffer = b""
        self.sent = time.perf_counter()
        self.transport.write(self.request)

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        head_end = self.buffer.find(b"\r\n\r\n")
        if head_end < 0:
            return
        head = self.buffer[:head_end].decode("latin-1")
        length = re.search(r"(?im)^content-length:\s*(\d+)", head)
        if length is None or not head.startswith("HTTP/1.1 200 "):
            return self.run.fail(f"unexpected answer: {self.buffer[:500]!r}")
        if len(self.buffer) - head_end - 4 < int(length.group(1)):
            return
        now = time.perf_counter()
        self.run.latencies.append((now - self.sent) * 1000)
        if now < self.run.stop_at:
            return self.send()
        self.run.open -= 1
        if self.run.open == 0 and not self.run.finished.done():
            self.run.finished.set_result(None)

    def connection_lost(self, exc) -> None:
        if self.run.open and time.perf_counter() < self.run.stop_at:
            self.run.fail(f"connection lost: {exc}")


def _run_loop(coroutine):
    try:
        import uvloop

        return uvloop.run(coroutine)
    except ImportError:
        return asyncio.run(coroutine)


def _percentile(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100)[q - 1]


def make_client(choice: str, key: str, concurrency: int, cpu: int | None, folder: Path):
    """wrk when asked for or, with `auto`, when it is installed; else the Python client."""
    if choice == "wrk" or (choice == "auto" and shutil.which("wrk")):
        if not shutil.which("wrk"):
            raise SystemExit("--client wrk: wrk is not installed (apt-get install wrk)")
        return WrkClient(key, concurrency, cpu, folder)
    return PythonClient(key, concurrency, cpu)


# ---- measuring -----------------------------------------------------------------------------

def database_cpu(name: str) -> dict[int, float]:
    """CPU seconds of every PostgreSQL backend serving database `name`, by process id (the
    servers' pools; their process titles name the database)."""
    found = {}
    for proc in psutil.process_iter(["cmdline"]):
        title = " ".join(proc.info["cmdline"] or ())
        if title.startswith("postgres:") and f" {name} " in f" {title} ":
            try:
                found[proc.pid] = sum(proc.cpu_times()[:2])
            except psutil.Error:
                pass
    return found


def measure(client, target: Server, seconds: float, database_name: str | None) -> Sample:
    """Warm up, then one timed run of `client` against `target` with the CPU it and PostgreSQL used."""
    client.run(target.url + target.path, WARMUP_SECONDS)
    server_before = target.cpu()
    backends_before = database_cpu(database_name) if database_name else {}
    client_before = client.cpu_used()
    sample = client.run(target.url + target.path, seconds)
    per_request = 1000 / sample.requests
    sample.server_cpu = (target.cpu() - server_before) * per_request
    if database_name:
        after = database_cpu(database_name)
        sample.database_cpu = sum(cpu - backends_before.get(pid, 0.0) for pid, cpu in after.items()) * per_request
    sample.client_cpu = (client.cpu_used() - client_before) * per_request
    return sample


def run(args, urls, key: str, agent_id: str, folder: Path) -> list[dict[str, Sample]]:
    """Both servers up; per round, each measured in turn (order flipped every round)."""
    server_cpu, client_cpu = (0, 1) if args.pin else (None, None)
    client = make_client(args.client, key, args.concurrency, client_cpu, folder)
    args.client_used = client.name
    name = urlsplit(urls.app).path.lstrip("/") or None
    rounds = []
    choices = uvicorn_choices(args.loop, args.http)
    with server("bare", urls, agent_id, server_cpu, choices) as bare, server("whole", urls, agent_id, server_cpu, choices) as whole:
        for n in range(args.rounds):
            order = (bare, whole) if n % 2 == 0 else (whole, bare)
            rounds.append({target.kind: measure(client, target, args.seconds, name) for target in order})
    return rounds


def setup(urls) -> tuple[str, str]:
    """A team, its key and one stored agent; returns (key, agent id)."""
    from agent_factory.platform.admin import create_team
    from agent_factory.platform.db.migrate import upgrade

    upgrade(urls.owner)
    key = create_team(urls, "Bench", "bench@bench.test")["key"]["key"]
    spec = (ROOT / "specs/market_research.md").read_text(encoding="utf-8")
    with server("whole", urls, "-", None) as whole:
        created = httpx.post(f"{whole.url}/v1/agents", json={"spec": spec}, headers={"X-Api-Key": key}, timeout=60)
        created.raise_for_status()
    return key, created.json()["id"]


def report(rounds: list[dict[str, Sample]], args, load_before: float, transport: str) -> None:
    """Each round's figures, then the median of the per-round ratios (the machine's load moves
    between rounds; within a round both servers see about the same)."""
    choices = uvicorn_choices(args.loop, args.http)
    print(f"Python {platform.python_version()}, {os.cpu_count()} CPUs, load average {load_before:.1f} before, "
          f"{os.getloadavg()[0]:.1f} after")
    print(f"GET one agent: client {args.client_used}, concurrency {args.concurrency}, {args.rounds} rounds of "
          f"{args.seconds:g} s per server; uvicorn loop={choices['loop']} http={choices['http']}; "
          f"PostgreSQL over {transport}; {'servers on CPU 0, client on CPU 1' if args.pin else 'not pinned'}")
    print("CPU columns: ms of CPU per request of the server process, its PostgreSQL backends, the client")
    header = f"{'round':>5} {'server':>6}{'requests':>9}{'p50':>8}{'p95':>8}{'server':>8}{'db':>7}{'client':>8}"
    print(header)
    for n, r in enumerate(rounds, 1):
        for kind in ("bare", "whole"):
            s = r[kind]
            print(f"{n:>5} {kind:>6}{s.requests:>9}{s.p50:>8.2f}{s.p95:>8.2f}{s.server_cpu:>8.3f}{s.database_cpu:>7.3f}{s.client_cpu:>8.3f}")
    fields = ("p50", "p95", "server_cpu", "database_cpu")
    ratios = {f: statistics.median(getattr(r["whole"], f) / getattr(r["bare"], f) if getattr(r["bare"], f) else 0.0
                                   for r in rounds) for f in fields}
    medians = {kind: {f: statistics.median(getattr(r[kind], f) for r in rounds) for f in ("p50", "p95")} for kind in ("bare", "whole")}
    print(f"median bare p50 {medians['bare']['p50']:.2f} ms, p95 {medians['bare']['p95']:.2f} ms; "
          f"whole p50 {medians['whole']['p50']:.2f} ms, p95 {medians['whole']['p95']:.2f} ms (target < 20)")
    print(f"median ratio whole/bare: p50 {ratios['p50']:.2f}, p95 {ratios['p95']:.2f} (target <= 1.30); "
          f"server CPU {ratios['server_cpu']:.2f}, database CPU {ratios['database_cpu']:.2f}")
    print(json.dumps({"client": args.client_used, "transport": transport, "pinned": args.pin, **choices,
                      "rounds": [{k: vars(s) for k, s in r.items()} for r in rounds],
                      "ratio": ratios, "median": medians}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=8.0, help="timed seconds per server and round")
    parser.add_argument("--concurrency", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=5, help="rounds; the median of the per-round ratios counts")
    parser.add_argument("--quick", action="store_true", help="a smoke run: 2 rounds of 3 s")
    parser.add_argument("--client", choices=["auto", "wrk", "python"], default="auto",
                        help="auto: wrk when installed, else the Python client")
    parser.add_argument("--pin", action="store_true", help="servers on CPU 0, client on CPU 1")
    parser.add_argument("--unix-socket", metavar="DIR", help="reach PostgreSQL through its Unix socket in DIR")
    parser.add_argument("--loop", choices=["auto", "asyncio", "uvloop"], default="auto", help="uvicorn's event loop, for both")
    parser.add_argument("--http", choices=["auto", "h11", "httptools"], default="auto", help="uvicorn's HTTP parser, for both")
    parser.add_argument("--child", choices=["bare", "whole"], help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return serve_child(args.child, args.port)
    if args.quick:
        args.rounds, args.seconds = 2, 3.0
    if args.pin and os.cpu_count() < 2:
        raise SystemExit("--pin needs two CPUs")
    load_before = os.getloadavg()[0]
    with ExitStack() as stack:
        urls = stack.enter_context(database())
        key, agent_id = setup(urls)
        transport = "TCP"
        if args.unix_socket:
            from agent_factory.platform.db.connect import DatabaseUrls

            urls = DatabaseUrls(owner=through_socket(urls.owner, args.unix_socket), app=through_socket(urls.app, args.unix_socket))
            transport = f"a Unix socket in {args.unix_socket}"
        elif urls.embedded:
            transport = "a Unix socket (embedded server)"
        folder = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        rounds = run(args, urls, key, agent_id, folder)
    report(rounds, args, load_before, transport)


if __name__ == "__main__":
    main()
