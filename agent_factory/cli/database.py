"""Options and error handling shared by `serve`, `db` and `admin`: which database, and clear
messages instead of tracebacks when it cannot be reached or migrated."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click

from .exit import Exit

data_dir_option = click.option(
    "--data-dir", type=click.Path(file_okay=False), default=None,
    help="Folder of the embedded PostgreSQL (default: the user's data folder, or $AGENT_FACTORY_DATA_DIR). "
         "Not allowed with DATABASE_URL.")


@contextmanager
def database_errors() -> Iterator[None]:
    """Turn database and migration failures into one `error:` line and exit 1."""
    import asyncpg
    import psycopg

    from agent_factory.platform.errors import PlatformError

    try:
        yield
    except PlatformError as error:
        _fail(str(error.detail))
    except (OSError, asyncpg.PostgresError, psycopg.Error) as error:
        _fail(f"cannot use the database: {str(error).strip() or type(error).__name__}")


def _fail(message: str) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(Exit.ERRORS)


@contextmanager
def opened(data_dir: str | None):
    """The database the command works on (as `serve` would open it)."""
    from agent_factory.platform.db.connect import open_database

    if data_dir and os.environ.get("DATABASE_URL"):
        raise click.UsageError("--data-dir is for the embedded database; DATABASE_URL is set, unset one of them")
    with database_errors(), open_database(Path(data_dir) if data_dir else None) as urls:
        yield urls
