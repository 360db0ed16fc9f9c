"""Bench: hosted runs against calling the same spec in-process, throughput with 1 and 2 worker
processes, and queue latency.

(a) overhead: a two-step agent, instant stub LLM on 127.0.0.1; the same spec run with
    `arun_spec` in this process (baseline), and through the API under uvicorn with
    `POST …/runs?wait=true` (queue, worker, Postgres checkpoints and events, quota), in
    alternating rounds so both see the same machine load; p50/p95 of each, the ratio and the
    fixed cost per run (target ≤ 1.2× plus under 15 ms). A third side runs `arun_spec` in this
    process with the worker's Postgres checkpointer (a pooled connection, the team set): the
    share of the fixed cost that is the checkpoints a crashed run resumes from;
(b) throughput: the stub answering in 200 ms, `--runs` runs queued at once, taken by 1 then by 2
    `agent-factory worker` processes (one run at a time each): runs per second and the scaling;
(c) queue latency: from the POST to the run's start (`started_at - created_at`) in (a), p95.

    python bench/bench_runs.py [--runs 100] [--samples 40]     (--quick: 20 runs, 15 samples)

Uses DATABASE_URL, else PostgreSQL on 127.0.0.1:5432 (a bench database is made from `test`),
else the embedded server in a temporary folder (the database of bench_api.py).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import subprocess
import threading
import uuid
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "platform"))
os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"

from agent_factory.testing.specs import TWO_STEPS  # noqa: E402  the tests' two-step agent
from bench_api import database  # noqa: E402  the same bench database
from conftest import LiveServer  # noqa: E402  first: hosted_runs is imported by the platform's conftest
from hosted_runs import config_text  # noqa: E402  the tests' stub configuration

QUEUE = "bench-throughput"


def answer(delay_s: float):
    """The stub model: each step's JSON after `delay_s` seconds."""
    from agent_factory.testing import delay, reply

    def handle(body):
        step = body["response_format"]["json_schema"]["name"]
        text = json.dumps({"rough": "rough"} if step == "draft" else {"text": "polished"})
        return delay(delay_s, reply(text, prompt_tokens=10, completion_tokens=5)) if delay_s else reply(text)

    return handle


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


class InProcess:
    """`arun_spec` on one long-lived event loop in a thread (litellm keeps its clients per loop)."""

    def __init__(self, spec_path: Path, config: Path, app_url: str, team_id: str) -> None:
        self.spec_path, self.config, self.app_url, self.team_id = spec_path, config, app_url, team_id
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.checkpoints = None

    def __enter__(self) -> "InProcess":
        from agent_factory.platform.worker.checkpoints import CheckpointConnections

        self.checkpoints = CheckpointConnections(self.app_url, 1)
        self._call(self.checkpoints.__aenter__())
        return self

    def __exit__(self, *exc) -> None:
        self._call(self.checkpoints.__aexit__(None, None, None))
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)

    def _call(self, coro):
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(60)

    def plain(self, i: int) -> float:
        return self._call(self._timed(i, durable=False))

    def durable(self, i: int) -> float:
        return self._call(self._timed(i, durable=True))

    async def _timed(self, i: int, durable: bool) -> float:
        from agent_factory.runtime.executor import arun_spec

        started = time.perf_counter()
        if durable:
            async with self.checkpoints.saver(self.team_id) as saver:
                result = await arun_spec(self.spec_path, {"topic": f"t{i}"}, config=self.config, thread=str(uuid.uuid4()),
                                         checkpoint_db=saver)
        else:
            result = await arun_spec(self.spec_path, {"topic": f"t{i}"}, config=self.config)
        assert result.ok, result.error
        return time.perf_counter() - started


def overhead(local: InProcess, http: httpx.Client, agent_id: str, samples: int, rounds: int = 5):
    """In-process, in-process with checkpoints, and hosted runs, in alternating rounds after a warm-up."""
    base, durable, hosted, ids = [], [], [], []
    for i in range(3):  # warm-up
        local.plain(i), local.durable(i), _hosted(http, agent_id, i)
    per_round = max(1, samples // rounds)
    for r in range(rounds):
        for i in range(per_round):
            base.append(local.plain(i))
        for i in range(per_round):
            durable.append(local.durable(i))
        for i in range(per_round):
            took, run_id = _hosted(http, agent_id, r * per_round + i)
            hosted.append(took)
            ids.append(run_id)
    return base, durable, hosted, ids


def _hosted(http: httpx.Client, agent_id: str, i: int) -> tuple[float, str]:
    started = time.perf_counter()
    run = http.post(f"/v1/agents/{agent_id}/runs?wait=true", json={"input": {"topic": f"t{i}"}}).json()
    took = time.perf_counter() - started
    assert run["status"] == "success", run
    return took, run["id"]


def queue_latency(owner_url: str, ids: list[str]) -> list[float]:
    import psycopg

    with psycopg.connect(owner_url) as conn:
        rows = conn.execute("SELECT extract(epoch FROM started_at - created_at) FROM runs WHERE id = ANY(%s::uuid[])",
                            (ids,)).fetchall()
    return [float(r[0]) for r in rows]


def throughput(url: str, key: str, agent_id: str, urls, config: Path, workers: int, runs: int) -> float:
    """Runs per second of `workers` worker processes over `runs` runs queued at once."""
    import psycopg

    env = {**os.environ, "DATABASE_URL": urls.owner, "DATABASE_APP_URL": urls.app}
    command = [sys.executable, "-c", "from agent_factory.cli import main; main()", "worker", "--queue", QUEUE,
               "--config", str(config)]
    procs = [subprocess.Popen(command, env=env, stderr=subprocess.DEVNULL) for _ in range(workers)]
    try:
        with psycopg.connect(urls.owner, autocommit=True) as conn:
            while conn.execute("SELECT count(*) FROM procrastinate_workers").fetchone()[0] < workers:
                time.sleep(0.2)
        with httpx.Client(base_url=url, headers={"X-Api-Key": key}, timeout=60) as http:
            started = time.perf_counter()
            ids = [http.post(f"/v1/agents/{agent_id}/runs", json={"input": {"topic": f"t{i}"}}).json()["id"]
                   for i in range(runs)]
            with psycopg.connect(urls.owner, autocommit=True) as conn:
                while conn.execute("SELECT count(*) FROM runs WHERE id = ANY(%s::uuid[]) AND status = 'success'",
                                   (ids,)).fetchone()[0] < runs:
                    time.sleep(0.05)
            return runs / (time.perf_counter() - started)
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait(30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--samples", type=int, default=40)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    runs, samples = (20, 15) if args.quick else (args.runs, args.samples)

    from agent_factory.platform.admin import create_team
    from agent_factory.platform.app import create_app
    from agent_factory.platform.db.migrate import upgrade
    from agent_factory.platform.settings import RunSettings, Settings
    from agent_factory.testing import StubLLM

    big = {p: "100000/minute" for p in ("free", "pro", "enterprise")}
    with database() as urls, tempfile.TemporaryDirectory() as folder, StubLLM(answer(0.0)) as instant, \
            StubLLM(answer(0.2)) as slow:
        upgrade(urls.owner)
        spec_path, config, slow_config = Path(folder) / "two_steps.md", Path(folder) / "fast.toml", Path(folder) / "slow.toml"
        spec_path.write_text(TWO_STEPS, encoding="utf-8")
        config.write_text(config_text(instant), encoding="utf-8")
        slow_config.write_text(config_text(slow), encoding="utf-8")
        team = create_team(urls, "Bench", "bench@bench.test", "enterprise")
        key, team_id = team["key"]["key"], str(team["team"]["id"])

        settings = Settings(database=urls, config_path=config, runs=RunSettings(worker_concurrency=1, rate_limits=big))
        load_before = os.getloadavg()
        with LiveServer(create_app(settings)) as server, InProcess(spec_path, config, urls.app, team_id) as local, \
                httpx.Client(base_url=server.url, headers={"X-Api-Key": key}, timeout=60) as http:
            agent = http.post("/v1/agents", json={"spec": TWO_STEPS}).json()
            base, durable, runs_s, ids = overhead(local, http, agent["id"], samples)
        latency = queue_latency(urls.owner, ids)

        queue_only = replace(settings, config_path=slow_config, runs=RunSettings(queue=QUEUE, rate_limits=big))
        with LiveServer(create_app(queue_only)) as server:
            one = throughput(server.url, key, agent["id"], urls, slow_config, 1, runs)
            two = throughput(server.url, key, agent["id"], urls, slow_config, 2, runs)
        load_after = os.getloadavg()

    ms = lambda values, q: percentile(values, q) * 1000  # noqa: E731
    print(f"Python {platform.python_version()}, {os.cpu_count()} cores; load average {load_before[0]:.2f} before, "
          f"{load_after[0]:.2f} after; {len(base)} samples per side")
    print(f"(a) in-process p50 {ms(base, .5):.1f} ms p95 {ms(base, .95):.1f} ms; "
          f"in-process with Postgres checkpoints p50 {ms(durable, .5):.1f} ms p95 {ms(durable, .95):.1f} ms; "
          f"hosted wait=true p50 {ms(runs_s, .5):.1f} ms p95 {ms(runs_s, .95):.1f} ms")
    print(f"    ratio hosted/in-process p50 {ms(runs_s, .5) / ms(base, .5):.2f}x; "
          f"fixed cost p50 {ms(runs_s, .5) - ms(base, .5):.1f} ms, beyond 1.2x {ms(runs_s, .5) - 1.2 * ms(base, .5):.1f} ms "
          f"(target: under 15 ms); of it the checkpoints {ms(durable, .5) - ms(base, .5):.1f} ms, "
          f"the rest (API, queue, worker, events) {ms(runs_s, .5) - ms(durable, .5):.1f} ms")
    print(f"    against the in-process run with the same checkpoints: ratio {ms(runs_s, .5) / ms(durable, .5):.2f}x, "
          f"beyond 1.2x {ms(runs_s, .5) - 1.2 * ms(durable, .5):.1f} ms")
    print(f"(b) throughput, {runs} runs, 200 ms per model call: 1 worker {one:.2f} runs/s, 2 workers {two:.2f} runs/s, "
          f"scaling {two / one:.2f}x")
    print(f"(c) queue latency POST -> running: p50 {ms(latency, .5):.1f} ms p95 {ms(latency, .95):.1f} ms "
          f"(median of {statistics.median(latency) * 1000:.1f} ms)")


if __name__ == "__main__":
    main()
