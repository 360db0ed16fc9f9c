"""The LangGraph Agent Server's resources, made of the platform's: an agent is an assistant (its
latest version; the graph id is the agent's name as a slug), a thread is a thread, a run a run.

Everything goes through the same services, tenant transactions and RLS as the `/v1` API; an id of
another team is not found, exactly like an unknown one.
"""

from __future__ import annotations

import re
from typing import Any
from uuid import UUID

import asyncpg

from ..agents import repository as agents
from ..agents import service as agent_service
from ..auth import Context, Principal
from ..db.tenant import tenant_transaction
from ..errors import InvalidRequest, NotFound
from .schemas import STREAM_MODES

NOT_FOUND = "Thread or assistant not found."


def slug(name: str) -> str:
    """The graph id of an agent: its name in lower case, runs of other characters as `_`."""
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")


def as_uuid(value: str) -> UUID | None:
    try:
        return UUID(value)
    except ValueError:
        return None


async def agents_of(pool: asyncpg.Pool, principal: Principal) -> list[dict[str, Any]]:
    """Every agent of the team (at its latest version), oldest first."""
    found: list[dict[str, Any]] = []
    cursor = None
    async with tenant_transaction(pool, principal.team_id, principal.user_id) as conn:
        while True:
            items, cursor = await agent_service.page(Context(conn, principal), cursor, 100, None, None, None)
            found += items
            if cursor is None:
                return found


async def resolve(pool: asyncpg.Pool, principal: Principal, assistant_id: str) -> dict[str, Any]:
    """The agent named by an assistant id (its UUID) or a graph id (its slug); 404 otherwise."""
    found = as_uuid(assistant_id)
    for agent in await agents_of(pool, principal):
        if agent["id"] == found or (found is None and slug(agent["name"]) == assistant_id):
            return agent
    raise NotFound(NOT_FOUND)


async def spec_text(pool: asyncpg.Pool, principal: Principal, agent: dict[str, Any]) -> str:
    async with tenant_transaction(pool, principal.team_id, principal.user_id) as conn:
        row = await agents.version(conn, principal.team_id, agent["id"], agent["version"])
    return row["spec"]


def assistant(agent: dict[str, Any]) -> dict[str, Any]:
    return {
        "assistant_id": str(agent["id"]), "graph_id": slug(agent["name"]), "name": agent["name"],
        "description": agent["description"] or None, "version": agent["version"], "config": {}, "context": {},
        "metadata": {"spec_sha256": agent["spec_sha256"]},
        "created_at": agent["created_at"].isoformat(), "updated_at": agent["updated_at"].isoformat(),
    }


def schemas(agent: dict[str, Any]) -> dict[str, Any]:
    state = {"type": "object", "title": "State",
             "properties": {**agent["inputs_schema"].get("properties", {}), **agent["outputs_schema"].get("properties", {})}}
    return {"graph_id": slug(agent["name"]), "input_schema": agent["inputs_schema"],
            "output_schema": agent["outputs_schema"], "state_schema": state, "config_schema": None, "context_schema": None}


def graph(plan) -> dict[str, Any]:
    """The plan as LangGraph's drawable graph: nodes, then edges (conditional ones marked)."""
    from agent_factory.compiler.plan import END, START

    names = {START: "__start__", END: "__end__"}
    nodes = [{"id": "__start__", "type": "schema", "data": "__start__"}]
    nodes += [{"id": n.name, "type": "runnable", "data": n.name} for n in plan.nodes]
    nodes.append({"id": "__end__", "type": "schema", "data": "__end__"})
    edges = [{"source": names.get(s, s), "target": names.get(e.target, e.target), "conditional": False}
             for e in plan.edges for s in e.sources]
    edges += [{"source": b.source, "target": names.get(r.target, r.target), "conditional": True, "data": r.condition}
              for b in plan.branches for r in b.routes]
    return {"nodes": nodes, "edges": edges}


def contains(have: dict[str, Any], want: dict[str, Any] | None) -> bool:
    """Metadata containment, as `@>` on one level: every key of `want` with the same value."""
    return all(have.get(k) == v for k, v in (want or {}).items())


def ordered(items: list[dict[str, Any]], key: str, order: str, tie: str) -> list[dict[str, Any]]:
    return sorted(items, key=lambda item: (str(item[key] or ""), item[tie]), reverse=order == "desc")


def selected(item: dict[str, Any], fields: list[str] | None) -> dict[str, Any]:
    """Only the `select`ed fields (all without one); 422 for a field the item does not have."""
    if not fields:
        return item
    unknown = sorted(set(fields) - set(item))
    if unknown:
        raise InvalidRequest(f"cannot select {', '.join(unknown)}; fields are: {', '.join(item)}")
    return {k: item[k] for k in fields}


def thread(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "thread_id": str(row["id"]), "created_at": row["created_at"].isoformat(),
        "updated_at": row["updated_at"].isoformat(), "metadata": row["metadata"] or {}, "status": row["status"],
        "values": row["values"], "interrupts": {}, "config": {},
    }


def state(row: dict[str, Any], checkpoints: list[dict[str, Any]]) -> dict[str, Any]:
    """A thread's state as `ThreadState`: its values after its last run, at its newest checkpoint."""
    return snapshot(row, checkpoints[0] if checkpoints else None, row["values"])


def snapshot(row: dict[str, Any], checkpoint: dict[str, Any] | None, values: Any) -> dict[str, Any]:
    """`values` of the thread `row` at `checkpoint` (None: the thread has none yet)."""

    def point(checkpoint_id: str | None) -> dict[str, Any] | None:
        return None if checkpoint_id is None else {"thread_id": str(row["id"]), "checkpoint_ns": "",
                                                   "checkpoint_id": checkpoint_id, "checkpoint_map": None}

    return {
        "values": values or {}, "next": [], "tasks": [], "interrupts": [],
        "checkpoint": point(checkpoint["checkpoint_id"] if checkpoint else None) or point(""),
        "parent_checkpoint": point(checkpoint["parent_checkpoint_id"]) if checkpoint else None,
        "metadata": (checkpoint or {}).get("metadata") or {},
        "created_at": (checkpoint or {}).get("ts") or row["updated_at"].isoformat(),
    }


def history(row: dict[str, Any], ends: list[tuple[dict[str, Any], Any]], query) -> list[dict[str, Any]]:
    """The run ends of a thread (newest first) that `query` asks for: before a checkpoint, at or
    before `checkpoint`, with metadata containing `metadata`, at most `limit`."""
    before = query.before if isinstance(query.before, str) else (query.before or {}).get("checkpoint_id")
    at_most = (query.checkpoint or {}).get("checkpoint_id")
    found = [snapshot(row, checkpoint, values) for checkpoint, values in ends
             if (not before or checkpoint["checkpoint_id"] < before)
             and (not at_most or checkpoint["checkpoint_id"] <= at_most)
             and contains(checkpoint["metadata"] or {}, query.metadata)]
    return found[:query.limit]


def run(row: dict[str, Any]) -> dict[str, Any]:
    options = row.get("options") or {}
    return {
        "run_id": str(row["id"]), "thread_id": str(row["thread_id"]) if row["thread_id"] else None,
        "assistant_id": str(row["agent_id"]), "created_at": row["created_at"].isoformat(),
        "updated_at": row["updated_at"].isoformat(), "status": row["status"], "metadata": row["metadata"] or {},
        "multitask_strategy": options.get("multitask_strategy", "enqueue"), "kwargs": {},
    }


def final_values(row: dict[str, Any]) -> dict[str, Any]:
    """What `runs.wait` and `join` answer: the state values, or `__error__` for a failed run."""
    if row["status"] == "success":
        return row["state"] or {}
    if row["status"] in ("pending", "running"):
        return {"__error__": {"error": "TimeoutError", "message": "the run has not ended yet; join it again"}}
    return {"__error__": {"error": row["error_type"] or row["status"], "message": row["error"] or row["status"]}}


def known_modes(modes: list[str]) -> None:
    """422 for a stream mode this server does not produce."""
    unknown = [m for m in modes if m not in STREAM_MODES]
    if unknown:
        raise InvalidRequest(f"stream_mode `{unknown[0]}` is not supported by this server; use {', '.join(STREAM_MODES)}")


def unsupported(body) -> None:
    """422 for values this server does not implement (rather than silently ignoring them)."""
    if body.interrupt_before or body.interrupt_after:
        raise InvalidRequest("interrupt_before / interrupt_after are not supported by this server")
    if body.command:
        raise InvalidRequest("`command` (resume, goto, update) is not supported by this server")
    if body.webhook:
        raise InvalidRequest("webhooks are not supported by this server")
    if body.checkpoint_id or (body.checkpoint or {}).get("checkpoint_id"):
        raise InvalidRequest("a run always continues from the thread's newest checkpoint; "
                             "`checkpoint_id` (running from an earlier one) is not supported")
    known_modes(body.modes())
    if body.after_seconds:
        raise InvalidRequest("`after_seconds` (delayed runs) is not supported; runs start as soon as a worker is free")
    if body.context:
        raise InvalidRequest("assistants of this server take no `context`; pass the agent's inputs in `input`")
    if body.input is not None and not isinstance(body.input, dict):
        raise InvalidRequest("`input` must be an object of the agent's inputs")
