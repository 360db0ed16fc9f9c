"""`agent-factory db upgrade|status`: the platform's schema migrations.

Registered in `agent_factory.cli.COMMANDS`.
"""

from __future__ import annotations

import json
import sys

import click

from .database import data_dir_option, opened
from .exit import Exit


@click.group()
def db() -> None:
    """Migrate the hosted API's database (DATABASE_URL, or the embedded one in --data-dir).

    Migrations are versioned SQL files shipped in the package, applied forward-only and
    checksummed; `serve` applies them at start too. See docs/operations.md.
    """


@db.command()
@data_dir_option
def upgrade(data_dir: str | None) -> None:
    """Apply every pending migration (as the owner role)."""
    from agent_factory.platform.db.migrate import upgrade as apply

    with opened(data_dir) as urls:
        applied = apply(urls.owner)
    click.echo(f"applied: {', '.join(applied)}" if applied else "the database is up to date")


@db.command()
@data_dir_option
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def status(data_dir: str | None, fmt: str) -> None:
    """List applied and pending migrations; exit 1 when some are pending."""
    from agent_factory.platform.db.migrate import status as read

    with opened(data_dir) as urls:
        found = read(urls.owner)
    if fmt == "json":
        click.echo(json.dumps({"applied": list(found.applied), "pending": list(found.pending), "current": found.current}))
    else:
        for migration in found.applied:
            click.echo(f"applied  {migration}")
        for migration in found.pending:
            click.echo(f"pending  {migration}")
    sys.exit(Exit.OK if found.current else Exit.ERRORS)
