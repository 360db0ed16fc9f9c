"""`threads.update_state`: new values for an idle thread's declared fields, written as a new
checkpoint by LangGraph itself (`aupdate_state`), so the thread's next run starts from them.

Only a thread that ran has an agent, and so a graph and declared fields; the values are checked
and converted like a run's inputs. The thread row stays locked while the checkpoint is written, so
no run can claim the thread in between; the checkpoint goes through a connection of its own whose
tenant is the caller's team (RLS), as a worker's do.
"""

from __future__ import annotations

import asyncio
from typing import Any
from uuid import UUID

import asyncpg

from ..agents import repository as agents
from ..audit import repository as audit
from ..auth import Principal
from ..db.tenant import tenant_transaction
from ..errors import Conflict, InvalidRequest, NotFound
from ..runs import repository as runs
from ..settings import Settings
from ..threads import repository as threads
from ..worker.checkpoints import team_saver
from ..worker.execute import checked


async def update_state(pool: asyncpg.Pool, settings: Settings, principal: Principal, thread_id: UUID,
                       body: Any) -> dict[str, Any]:
    """Write `body.values` to the thread as a new checkpoint (as `body.as_node` when given); answers
    the new checkpoint. 404: not this team's thread; 409: busy, or never ran; 422: values, step or
    checkpoint that do not fit."""
    team = principal.team_id
    async with tenant_transaction(pool, team, principal.user_id) as conn:
        row = await threads.get(conn, team, thread_id, lock=True)
        if row is None:
            raise NotFound("no such thread")
        if row["status"] == "busy":
            raise Conflict("the thread is busy with a run; update its state once the run has ended")
        last = await runs.on_thread(conn, team, thread_id, 1, 0)
        if row["agent_id"] is None or not last:
            raise Conflict("the thread has no agent yet; start a run on it first")
        text = await agents.spec_text(conn, team, last[0]["agent_id"], last[0]["version"])
        spec, plan = await checked(text, settings.config_path)
        values = checked_values(spec, plan, body.values)
        node = step_id(spec, plan, body.as_node)
        newest = await threads.checkpoints(conn, thread_id, 1)
        only_newest(body, newest[0]["checkpoint_id"] if newest else None)
        checkpoint_id = await _write(settings, spec, plan, team, thread_id, values, node)
        await conn.execute("UPDATE threads SET values = $3, updated_at = now() WHERE team_id = $1 AND id = $2",
                           team, thread_id, {**(row["values"] or {}), **values})
        await audit.record(conn, team, principal.user_id, principal.key_id, "thread.update_state", f"thread:{thread_id}",
                           {"fields": sorted(values), "as_node": body.as_node, "checkpoint_id": checkpoint_id,
                            "agent_id": str(last[0]["agent_id"]), "version": last[0]["version"]})
    return {"checkpoint": {"thread_id": str(thread_id), "checkpoint_ns": "", "checkpoint_id": checkpoint_id}}


def checked_values(spec: Any, plan: Any, values: Any) -> dict[str, Any]:
    """`values` converted to their declared types; 422 naming every field that is not an input or
    output of the agent, or every value that does not fit its type."""
    from agent_factory.runtime.executor import typed_inputs

    fields = list(dict.fromkeys([*plan.inputs, *plan.outputs]))
    if not isinstance(values, dict) or not values:
        raise InvalidRequest(f"`values` must be an object of the agent's fields: {', '.join(fields)}")
    unknown = [name for name in values if name not in fields]
    if unknown:
        raise InvalidRequest(f"cannot update {', '.join(unknown)}: not a field of the agent; "
                             f"its fields are: {', '.join(fields)}")
    try:
        return typed_inputs(spec, values)
    except ValueError as exc:
        raise InvalidRequest(str(exc).replace("inputs do not fit", "values do not fit", 1)) from None


def step_id(spec: Any, plan: Any, as_node: str | None) -> str | None:
    """The LangGraph node of the step `as_node` (None when not given); 422 for another name, and
    for the guard step: its checks do not run on an update, so nothing may pass as having passed them."""
    from agent_factory.runtime.graph import GUARD, node_ids

    if as_node is None:
        return None
    ids = {name: node for name, node in node_ids(plan, spec).items() if name != GUARD}
    if as_node not in ids:
        raise InvalidRequest(f"`as_node` must be a step of the agent: {', '.join(ids)} (got `{as_node}`)")
    return ids[as_node]


def only_newest(body: Any, newest: str | None) -> None:
    """422 when the body names a checkpoint other than the thread's newest (no time travel)."""
    named = body.checkpoint_id or (body.checkpoint or {}).get("checkpoint_id")
    if named and named != newest:
        raise InvalidRequest("only the thread's newest checkpoint can be updated (`checkpoint_id` names another one)")


async def _write(settings: Settings, spec: Any, plan: Any, team: UUID, thread_id: UUID, values: dict[str, Any],
                 node: str | None) -> str:
    """Write `values` as a new checkpoint of the thread with the agent's graph; its id."""
    from agent_factory.runtime.factory import RunFactory
    from agent_factory.runtime.graph import shared_graph, with_saver

    from langgraph.errors import InvalidUpdateError

    factory = await asyncio.to_thread(RunFactory.load, spec, plan=plan, config=settings.config_path)
    graph = shared_graph(plan, spec, factory.runtime())
    async with team_saver(settings.database.app, team) as saver:
        config = with_saver({"configurable": {"thread_id": str(thread_id), "checkpoint_ns": ""}}, saver)
        try:
            written = await graph.aupdate_state(config, values, as_node=node)
        except InvalidUpdateError as exc:  # e.g. no step to write as: name one with `as_node`
            raise InvalidRequest(f"the update cannot be applied: {exc}") from None
    return written["configurable"]["checkpoint_id"]
