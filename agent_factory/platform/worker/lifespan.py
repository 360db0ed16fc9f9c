"""What hosted runs add to the API process's lifetime: the rate limiter, the run waiter, and the in-process worker
when `settings.runs.worker_concurrency` is above 0 (`serve` without `--no-worker`)."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress

from ..quotas.ratelimit import RateLimiter
from ..runs.waiter import RunWaiter
from ..secrets.vault import Vault
from ..settings import Settings


@asynccontextmanager
async def hosted_runs(app, settings: Settings) -> AsyncIterator[None]:
    """Set up `app.state.rate_limiter`; run a worker beside the API until shutdown."""
    runs = settings.runs
    app.state.rate_limiter = RateLimiter(runs.rate_limits, runs.redis_url or os.environ.get("REDIS_URL"))
    app.state.vault = Vault.from_environment()
    app.state.run_waiter = RunWaiter()
    await app.state.run_waiter.start(settings.database.app)
    worker = None
    if runs.worker_concurrency > 0:
        from .queue import serve_worker

        worker = asyncio.create_task(serve_worker(settings, runs.worker_concurrency, waiter=app.state.run_waiter))
    try:
        yield
    finally:
        if worker is not None:
            worker.cancel()
            with suppress(asyncio.CancelledError):
                await worker
        await app.state.run_waiter.close()
