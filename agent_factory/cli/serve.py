"""`agent-factory serve`: the hosted API under uvicorn, on PostgreSQL (embedded when none is set).

Registered in `agent_factory.cli.COMMANDS`.
"""

from __future__ import annotations

import click

from .database import data_dir_option, database_errors


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535), help="Port to listen on.")
@data_dir_option
@click.option("--config", "config_path", type=click.Path(exists=True, dir_okay=False), default=None,
              help="The operator's agent-factory.toml (models and prices for cost estimates).")
@click.option("--no-worker", is_flag=True, help="Only queue runs; `agent-factory worker` processes take them.")
@click.option("--worker-concurrency", default=2, show_default=True, type=click.IntRange(1, 256),
              help="Runs the in-process worker takes at the same time.")
@click.option("--replay", "replay_dir", type=click.Path(exists=True, file_okay=False), default=None,
              help="Serve every model call of hosted runs from the cassettes in this folder (offline demos).")
def serve(host: str, port: int, data_dir: str | None, config_path: str | None, no_worker: bool,
          worker_concurrency: int, replay_dir: str | None) -> None:
    """Run the hosted API (teams, keys, agents from specs) until Ctrl-C.

    \b
    The database is DATABASE_URL when set (the owner role, which migrates; the API connects as
    the role agent_factory_app, or DATABASE_APP_URL). Without it, a private PostgreSQL 18 starts
    in the data dir (default: the user's data folder) and stops when serve exits. Migrations
    are applied at start.

    Hosted runs are taken by a worker inside this process unless --no-worker; start more with
    `agent-factory worker` against the same database.

    On an empty database a team `default` and an admin key are created and the key is printed
    once; add teams with `agent-factory admin create-team`. See docs/operations.md and
    docs/api.md.
    """
    from pathlib import Path

    from agent_factory.platform.admin import serve as run

    with database_errors():
        run(host, port, Path(data_dir) if data_dir else None, Path(config_path) if config_path else None, click.echo,
            worker_concurrency=0 if no_worker else worker_concurrency, replay_dir=Path(replay_dir) if replay_dir else None)
