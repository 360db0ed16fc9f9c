"""Rate limits per API key (or session) and plan, with the `limits` library: a moving window in
Redis when one is configured (shared by every server process), in memory otherwise.

A refused request gets 429 with `Retry-After` and the `RateLimit-Limit`, `RateLimit-Remaining`,
`RateLimit-Reset` headers; an accepted one carries the `RateLimit-*` headers too.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping

from ..errors import PlatformError


class RateLimited(PlatformError):
    status = 429
    code = "rate_limited"


class RateLimiter:
    """One limiter per process; `hit` raises `RateLimited` past the plan's rate."""

    def __init__(self, limits: Mapping[str, str], redis_url: str | None = None) -> None:
        from limits import parse
        from limits.aio.strategies import MovingWindowRateLimiter
        from limits.storage import storage_from_string

        if redis_url:
            scheme, rest = redis_url.split("://", 1)
            storage = storage_from_string(f"async+{scheme}://{rest}", implementation="redispy")
        else:
            storage = storage_from_string("async+memory://")
        self.limiter = MovingWindowRateLimiter(storage)
        self.items = {plan: parse(rate) for plan, rate in limits.items()}

    async def hit(self, plan: str, who: str) -> dict[str, str]:
        """Count one request of `who`; returns the `RateLimit-*` headers, or raises 429."""
        item = self.items.get(plan)
        if item is None:
            return {}
        allowed = await self.limiter.hit(item, "runs", who)
        reset_at, remaining = await self.limiter.get_window_stats(item, "runs", who)
        reset = max(1, math.ceil(reset_at - time.time()))
        headers = {"RateLimit-Limit": str(item.amount), "RateLimit-Remaining": str(max(0, remaining)),
                   "RateLimit-Reset": str(reset), "RateLimit-Policy": f"{item.amount};w={item.get_expiry()}"}
        if not allowed:
            raise RateLimited(f"rate limit of the `{plan}` plan reached ({item.amount} runs per "
                              f"{item.get_expiry()} s); retry in {reset} s", headers={**headers, "Retry-After": str(reset)})
        return headers
