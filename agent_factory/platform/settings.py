"""The platform's settings: which database, how big a body may be, pool and session sizes."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from .db.connect import DatabaseUrls


@dataclass(frozen=True)
class Settings:
    """Everything `create_app` needs; build one per process (`serve`, a test, a worker).

    `config_path` is the operator's `agent-factory.toml` (prices, models) used for cost estimates;
    None means `./agent-factory.toml` or the built-in defaults."""

    database: DatabaseUrls
    config_path: Path | None = None
    max_body_bytes: int = 1024 * 1024
    pool_min: int = 1
    pool_max: int = 10
    session_ttl: timedelta = timedelta(days=14)
    runs: RunSettings = field(default_factory=lambda: RunSettings())


PLAN_RATE_LIMITS = {"free": "10/minute", "pro": "100/minute", "enterprise": "1000/minute"}
PLAN_RUNS_PER_MONTH: dict[str, int | None] = {"free": 100, "pro": 10_000, "enterprise": None}


@dataclass(frozen=True)
class RunSettings:
    """Hosted runs: the in-process worker, time limits, plan limits, replay and the rate-limit store.

    `queue` names the job queue (API and workers must agree); `worker_concurrency` 0 means this process only queues runs (`serve --no-worker`, tests of the
    API alone); `redis_url` None keeps rate-limit counters in memory (one process). `replay_dir`
    serves every model call from cassettes there: demos and tests run offline."""

    worker_concurrency: int = 0
    queue: str = "runs"
    timeout_s: float = 600.0
    heartbeat_s: float = 5.0
    stalled_after_s: float = 30.0
    max_attempts: int = 3
    rate_limits: Mapping[str, str] = field(default_factory=lambda: dict(PLAN_RATE_LIMITS))
    runs_per_month: Mapping[str, int | None] = field(default_factory=lambda: dict(PLAN_RUNS_PER_MONTH))
    redis_url: str | None = None
    replay_dir: Path | None = None
