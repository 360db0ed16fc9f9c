"""The platform's settings: which database, how big a body may be, pool and session sizes."""

from __future__ import annotations

from dataclasses import dataclass
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
