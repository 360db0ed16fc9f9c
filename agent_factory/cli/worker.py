"""`agent-factory worker`: take hosted runs from the queue in the platform's database.

Registered in `agent_factory.cli.COMMANDS`. Start as many as you like, on any machine that reaches
the database; each takes up to `--concurrency` runs at a time.
"""

from __future__ import annotations

import click


@click.command()
@click.option("--concurrency", default=1, show_default=True, type=click.IntRange(1, 256),
              help="Runs taken at the same time by this process.")
@click.option("--data-dir", type=click.Path(file_okay=False), default=None,
              help="The embedded database's folder, when DATABASE_URL is not set (the one `serve` uses).")
@click.option("--config", "config_path", type=click.Path(exists=True, dir_okay=False), default=None,
              help="The operator's agent-factory.toml: models, prices, tiers, tools (use the one `serve` uses).")
@click.option("--replay", "replay_dir", type=click.Path(exists=True, file_okay=False), default=None,
              help="Serve every model call from the cassettes in this folder (offline demos and tests).")
@click.option("--queue", default="runs", show_default=True, help="The job queue to take runs from (the API's).")
@click.option("--stalled-after", default=30.0, show_default=True, type=click.FloatRange(1, 3600),
              help="Seconds without a heartbeat after which another worker's runs are taken over.")
def worker(concurrency: int, data_dir: str | None, config_path: str | None, replay_dir: str | None, queue: str,
           stalled_after: float) -> None:
    """Take hosted runs from the queue until Ctrl-C (or SIGTERM: runs in progress get
    30 s to finish; the others go back to the queue and resume from their checkpoints).

    \b
    The database is DATABASE_URL (the owner's URL; the worker connects as the app role, or
    DATABASE_APP_URL), else the embedded one in the data dir. See docs/operations.md.
    """
    import asyncio
    from pathlib import Path

    from agent_factory.platform.db.connect import open_database
    from agent_factory.platform.settings import RunSettings, Settings
    from agent_factory.platform.worker.queue import serve_worker

    with open_database(Path(data_dir) if data_dir else None) as urls:
        runs = RunSettings(worker_concurrency=concurrency, replay_dir=Path(replay_dir) if replay_dir else None,
                           queue=queue, stalled_after_s=stalled_after)
        settings = Settings(database=urls, config_path=Path(config_path) if config_path else None, runs=runs)
        click.echo(f"worker: taking runs from {urls.describe()} ({concurrency} at a time); Ctrl-C stops", err=True)
        asyncio.run(serve_worker(settings, concurrency, install_signal_handlers=True))
