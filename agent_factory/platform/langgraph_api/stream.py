"""A run's events in the LangGraph Agent Server's SSE framing: `metadata` first (run and thread
ids), then per requested `stream_mode` an `updates` event per finished step, and once the guards
passed the run's answer as a `messages` event (`messages-tuple`: the whole message and its
metadata, not tokens) and the final state as `values`; a failed run ends with `error`. Step
updates carry no values: a step's output may hold what a guard refuses, and nothing leaves a run
before its guards. `custom` is accepted: no step writes custom data, so it adds no event."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import asyncpg

from agent_factory.compiler.plan import GUARD

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
            else:
                for name, data in _final(ended, modes):
                    yield events.frame(name, data, seq)


def _final(run: dict[str, Any], modes: list[str]) -> list[tuple[str, Any]]:
    """The events of a run that succeeded: its answer message, then its values."""
    values = run["state"] or {}
    said = (values.get("messages") or [None])[-1]
    out = []
    if "messages-tuple" in modes and isinstance(said, dict) and said.get("type") == "ai":
        out.append(("messages", [said, {"run_id": str(run["id"]), "thread_id": _thread(run), "langgraph_node": GUARD}]))
    if "values" in modes:
        out.append(("values", values))
    return out


def _thread(run: dict[str, Any]) -> str | None:
    return str(run["thread_id"]) if run["thread_id"] else None


def links(run: dict[str, Any]) -> dict[str, str]:
    """`Location` (where to rejoin the stream) and `Content-Location` (the run) headers."""
    if run["thread_id"] is None:
        return {"Content-Location": f"/runs/{run['id']}"}
    base = f"/threads/{run['thread_id']}/runs/{run['id']}"
    return {"Location": f"{base}/stream", "Content-Location": base}
