"""Operator actions outside the API: create a team with an owner key, set a password, serve.

Each opens the same database `serve` uses (`DATABASE_URL`, or the embedded server in the data
dir — joining it when `serve` is already running there) and goes through the same services and
row-level security as the API.
"""

from __future__ import annotations

import asyncio
import signal
import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .db.connect import DatabaseUrls, default_data_dir, open_database
from .db.migrate import upgrade
from .db.pool import create_pool
from .errors import PlatformError
from .settings import RunSettings, Settings

BOOTSTRAP_TEAM = "default"
BOOTSTRAP_OWNER = "admin@localhost"


async def _with_pool(urls: DatabaseUrls, action: Callable[..., Any], *args: Any) -> Any:
    pool = await create_pool(urls.app, min_size=1, max_size=2)
    try:
        return await action(pool, *args)
    finally:
        await pool.close()


def create_team(urls: DatabaseUrls, name: str, owner_email: str, plan: str = "free") -> dict:
    """A team owned by `owner_email`, with an owner key (see `tenancy.service.create_team`)."""
    from .tenancy.service import create_team as create

    return asyncio.run(_with_pool(urls, create, name, owner_email, plan))


def set_password(urls: DatabaseUrls, email: str, password: str) -> None:
    from .tenancy.service import set_password as set_

    asyncio.run(_with_pool(urls, set_, email, password))


def has_teams(urls: DatabaseUrls) -> bool:
    """Whether any team exists (asked as the owner role, which sees every row)."""
    import psycopg

    with psycopg.connect(urls.owner) as conn:
        return conn.execute("SELECT EXISTS (SELECT 1 FROM teams)").fetchone()[0]


def serve(host: str, port: int, data_dir: Path | None, config_path: Path | None, echo: Callable[[str], None],
          worker_concurrency: int = 1, replay_dir: Path | None = None) -> None:
    """Open the database (starting the embedded one if needed), migrate, bootstrap an empty
    database with a team and an admin key (printed once), and run the API until interrupted,
    with an in-process worker taking `worker_concurrency` runs at a time (0: none)."""
    import uvicorn

    from .app import create_app

    sock = listen(host, port)  # before the database starts: a taken port is reported at once
    with open_database(data_dir) as urls:
        applied = upgrade(urls.owner)
        settings = Settings(database=urls, config_path=config_path,
                            runs=RunSettings(worker_concurrency=worker_concurrency, replay_dir=replay_dir))
        echo(f"Agent Factory API on http://{_host(host)}:{port}  (OpenAPI: http://{_host(host)}:{port}/docs)")
        if urls.embedded:
            echo(f"data dir: {(data_dir or default_data_dir()).expanduser().resolve()} (embedded PostgreSQL)")
        echo(f"database: {urls.describe()}" + (f"; applied migrations {', '.join(applied)}" if applied else ""))
        if not has_teams(urls):
            created = create_team(urls, BOOTSTRAP_TEAM, BOOTSTRAP_OWNER, "free")
            echo(f"bootstrap admin key of team `{BOOTSTRAP_TEAM}` (owner {BOOTSTRAP_OWNER}), shown once: {created['key']['key']}")
        server = uvicorn.Server(uvicorn.Config(create_app(settings), log_level="warning"))
        # uvicorn shuts down gracefully on SIGINT and SIGTERM, then raises the signal again with the
        # handler it found: make SIGTERM's a KeyboardInterrupt too, so the database is stopped here
        # instead of the process dying with the embedded PostgreSQL still running
        signal.signal(signal.SIGTERM, signal.default_int_handler)
        try:
            server.run(sockets=[sock])
        except KeyboardInterrupt:
            pass
    sock.close()
    echo("stopped")


def listen(host: str, port: int) -> socket.socket:
    """A socket bound to host:port, or ServeError saying why not."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # the protocol named, not left 0: asyncio turns Nagle off (TCP_NODELAY) only on sockets whose
    # `proto` is TCP, and accepted connections inherit it. Without it a response written in two
    # parts (headers, then body) waits for the client's delayed ACK: 40 ms on Linux.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as error:
        sock.close()
        raise ServeError(f"cannot listen on {_host(host)}:{port}: {error.strerror or error}") from None
    return sock


class ServeError(PlatformError):
    """`serve` cannot start (the address is taken or invalid)."""

    code = "serve_failed"


def _host(host: str) -> str:
    return f"[{host}]" if ":" in host else host
