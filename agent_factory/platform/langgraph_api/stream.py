"""A run's events in the LangGraph Agent Server's SSE framing: `metadata` first (run and thread
ids), then per requested `stream_mode` an `updates` event per finished step and the final state
as `values` once the guards passed; a failed run ends with `error`. Step updates carry no values:
a step's output may hold what a guard refuses, and nothing leaves a run before its guards."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import asyncpg

from ..auth import Principal
from ..runs import events
from ..runs import service as runs


async def frames(pool: asyncpg.Pool, principal: Principal, run: dict[str, Any], modes: list[str],
                 after: int = 0) -> AsyncIterator[Any]:
    """The SSE frames of `run` after event `after` (0: from the start, with `metadata`)."""
    if after == 0:
        yield events.frame("metadata", {"run_id": str(run["id"]), "thread_id": _thread(run), "attempt": 1})
    async for row in events.tail(pool, principal, run["id"], after):
        name, data, seq = row["event"], row["data"], row["seq"]
        if name == "step.end" and "updates" in modes and not str(data.get("step", "")).startswith("__"):
            yield events.frame("updates", {data["step"]: {}}, seq)
        elif name == "run.end":
            ended = await runs.get(pool, principal, run["id"])
            if ended["status"] != "success":
                yield events.frame("error", {"error": ended["error_type"] or ended["status"],
                                             "message": ended["error"] or ended["status"]}, seq)
            elif "values" in modes:
                yield events.frame("values", ended["state"] or {}, seq)


def _thread(run: dict[str, Any]) -> str | None:
    return str(run["thread_id"]) if run["thread_id"] else None


def links(run: dict[str, Any]) -> dict[str, str]:
    """`Location` (where to rejoin the stream) and `Content-Location` (the run) headers."""
    if run["thread_id"] is None:
        return {"Content-Location": f"/runs/{run['id']}"}
    base = f"/threads/{run['thread_id']}/runs/{run['id']}"
    return {"Location": f"{base}/stream", "Content-Location": base}
