"""The LangGraph Agent Server API at the app's root, for the MIT `langgraph-sdk` client,
`RemoteGraph` and Studio-style tools: assistants, threads, runs (create, wait, stream, join,
cancel) and `/info`. Same credentials (`x-api-key`), same tenants and RLS as `/v1`.

Thread ids are minted by this server; a run on a thread this team does not have is 404 (also with
`if_not_exists: create`: create the thread first with `POST /threads`).
"""

from __future__ import annotations

import asyncio
from typing import Any
from uuid import UUID

from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.responses import JSONResponse, Response
from sse_starlette import EventSourceResponse

from ... import __version__
from ..auth import Principal
from ..errors import Conflict, InvalidRequest, NotFound, error_responses
from ..runs import events
from ..runs import service as runs
from ..runs.access import caller, run_starter
from ..threads import service as threads
from ..worker.execute import spec_and_plan
from . import service, stream, update
from .schemas import AssistantSearch, HistoryQuery, RunCreate, RunStatus, StateAt, StateUpdate, ThreadCreate, ThreadSearch

router = APIRouter(tags=["langgraph"], responses=error_responses(400, 401, 403, 404, 422))
# what starting a run may answer beyond the router's: 402 past a quota, 429 past the rate limit
# (with `Retry-After`), and on a thread 409 when `multitask_strategy` is `reject` and it is busy
THREAD_RUN_ERRORS = error_responses(402, 409, 429)
STATELESS_RUN_ERRORS = error_responses(402, 429)
info_router = APIRouter(tags=["langgraph"])
WAIT_S = 300.0


@info_router.get("/info", responses=error_responses(500))
async def info() -> dict[str, Any]:
    """What this server is and which parts of the Agent Server API it offers (no credential needed)."""
    return {"name": "agent-factory", "version": __version__, "status": "ok",
            "flags": {"assistants": True, "crons": False, "langsmith": False}}


# ---------------------------------------------------------------- assistants


@router.post("/assistants/search")
async def search_assistants(body: AssistantSearch, request: Request, principal: Principal = caller("agents:read")) -> JSONResponse:
    """The team's agents as assistants, filtered by graph id, name and metadata (containment),
    sorted (`sort_by`, `sort_order`; oldest first by default), optionally only the `select`ed fields.
    `X-Pagination-Next` holds the next page's offset while there is one."""
    found = [service.assistant(a) for a in await service.agents_of(request.app.state.pool, principal)]
    found = [a for a in found if body.graph_id in (None, a["graph_id"]) and body.name in (None, a["name"])
             and service.contains(a["metadata"], body.metadata)]
    found = service.ordered(found, body.sort_by or "created_at", body.sort_order or "asc", "assistant_id")
    page = found[body.offset:body.offset + body.limit]
    more = body.offset + body.limit < len(found)
    headers = {"X-Pagination-Next": str(body.offset + body.limit)} if more else {}
    return JSONResponse([service.selected(a, body.select) for a in page], headers=headers)


@router.get("/assistants/{assistant_id}")
async def get_assistant(assistant_id: str, request: Request, principal: Principal = caller("agents:read")) -> dict:
    """One assistant, by its id or its graph id."""
    return service.assistant(await service.resolve(request.app.state.pool, principal, assistant_id))


@router.get("/assistants/{assistant_id}/schemas")
async def assistant_schemas(assistant_id: str, request: Request, principal: Principal = caller("agents:read")) -> dict:
    """Input, output and state JSON schemas, from the spec's declared fields."""
    return service.schemas(await service.resolve(request.app.state.pool, principal, assistant_id))


@router.get("/assistants/{assistant_id}/graph")
async def assistant_graph(assistant_id: str, request: Request, xray: bool | int = Query(False),
                          principal: Principal = caller("agents:read")) -> dict:
    """The graph's nodes and edges."""
    pool = request.app.state.pool
    agent = await service.resolve(pool, principal, assistant_id)
    text = await service.spec_text(pool, principal, agent)
    _, plan = await asyncio.to_thread(spec_and_plan, text, request.app.state.settings.config_path)
    return service.graph(plan)


# ---------------------------------------------------------------- threads


def _thread_id(value: str) -> UUID:
    found = service.as_uuid(value)
    if found is None:
        raise NotFound(service.NOT_FOUND)
    return found


@router.post("/threads")
async def create_thread(body: ThreadCreate, request: Request, principal: Principal = caller("runs:write")) -> dict:
    """A new thread. A `thread_id` is accepted only for a thread of this team that exists
    (`if_exists: do_nothing` returns it); new ids are always minted here."""
    if body.ttl is not None:
        raise InvalidRequest("thread TTLs are not supported by this server; delete the thread when it is no longer needed")
    if body.supersteps:
        raise InvalidRequest("`supersteps` (a thread created with a prepared state) is not supported by this server; "
                             "start a run on the new thread instead")
    pool = request.app.state.pool
    if body.thread_id is not None:
        existing = await threads.get(pool, principal, _thread_id(body.thread_id))
        if body.if_exists == "raise":
            raise Conflict(f"thread {body.thread_id} already exists")
        return service.thread(existing)
    return service.thread(await threads.create(pool, principal, body.metadata or {}))


@router.get("/threads/{thread_id}")
async def get_thread(thread_id: str, request: Request, principal: Principal = caller("agents:read")) -> dict:
    """One thread, its status and its values after its last run."""
    return service.thread(await threads.get(request.app.state.pool, principal, _thread_id(thread_id)))


@router.delete("/threads/{thread_id}", status_code=204)
async def delete_thread(thread_id: str, request: Request, principal: Principal = caller("runs:write")) -> Response:
    """Delete the thread, its runs and its checkpoints."""
    await threads.delete(request.app.state.pool, principal, _thread_id(thread_id))
    return Response(status_code=204)


@router.post("/threads/search")
async def search_threads(body: ThreadSearch, request: Request, principal: Principal = caller("agents:read")) -> list:
    """The team's threads filtered by metadata and values (containment), ids and status; sorted
    (`sort_by`, `sort_order`; newest first by default); optionally only the `select`ed fields."""
    if body.extract:
        raise InvalidRequest("`extract` is not supported by this server; read the thread's `values`")
    ids = None if body.ids is None else [u for u in map(service.as_uuid, body.ids) if u is not None]
    where = {"metadata": body.metadata, "values": body.values, "status": body.status, "ids": ids}
    sort = (body.sort_by or "created_at", body.sort_order or "desc")
    found = await threads.search(request.app.state.pool, principal, where, sort, body.limit, body.offset)
    return [service.selected(service.thread(t), body.select) for t in found]


@router.get("/threads/{thread_id}/state")
async def thread_state(thread_id: str, request: Request, principal: Principal = caller("agents:read")) -> dict:
    """The thread's values after its last run, at its newest checkpoint."""
    return service.state(*await threads.state(request.app.state.pool, principal, _thread_id(thread_id)))


@router.get("/threads/{thread_id}/state/{checkpoint_id}")
async def thread_state_by_id(thread_id: str, checkpoint_id: str, request: Request,
                             principal: Principal = caller("agents:read")) -> dict:
    """As `GET …/state` when `checkpoint_id` is the thread's newest checkpoint; 422 for another one."""
    return await _state_at(request, principal, thread_id, checkpoint_id)


@router.post("/threads/{thread_id}/state/checkpoint")
async def thread_state_at(thread_id: str, request: Request, body: StateAt | None = None,
                          principal: Principal = caller("agents:read")) -> dict:
    """As `GET …/state/{checkpoint_id}` with the body's `checkpoint.checkpoint_id` (its thread id is
    never read); without one, the newest state."""
    checkpoint = body.checkpoint if body and body.checkpoint else {}
    return await _state_at(request, principal, thread_id, checkpoint.get("checkpoint_id"))


async def _state_at(request: Request, principal: Principal, thread_id: str, checkpoint_id: Any) -> dict:
    state = service.state(*await threads.state(request.app.state.pool, principal, _thread_id(thread_id)))
    if checkpoint_id and checkpoint_id != state["checkpoint"]["checkpoint_id"]:
        raise InvalidRequest("only the thread's newest checkpoint can be read (`checkpoint_id` names another one); "
                             "see the thread's history for the states its runs left")
    return state


@router.post("/threads/{thread_id}/state", responses=error_responses(409))
async def update_thread_state(thread_id: str, body: StateUpdate, request: Request,
                              principal: Principal = caller("runs:write")) -> dict:
    """New values for the agent's input and output fields, written as the thread's newest
    checkpoint (as the step `as_node` when given); the thread must have run and be idle."""
    app = request.app
    return await update.update_state(app.state.pool, app.state.settings, principal, _thread_id(thread_id), body)


@router.post("/threads/{thread_id}/history")
async def thread_history(thread_id: str, request: Request, body: HistoryQuery | None = None,
                         principal: Principal = caller("agents:read")) -> list:
    """The states the thread's runs left, newest first: its newest checkpoint with its values, then
    each checkpoint a run ended at with the values that run left (the state the next run started
    from). Checkpoints within a run are not listed: their values had not passed the guards yet.
    Filtered by `before`, `checkpoint` (at or before it) and `metadata`; at most `limit`."""
    row, ends = await threads.history(request.app.state.pool, principal, _thread_id(thread_id))
    return service.history(row, ends, body or HistoryQuery())


# ---------------------------------------------------------------- runs


async def _start(request: Request, starter: runs.Starter, body: RunCreate,
                 thread_id: UUID | None) -> tuple[dict[str, Any], dict[str, str]]:
    """The run queued for `body`, and the `RateLimit-*` headers its answer carries."""
    service.unsupported(body)
    app = request.app
    principal = starter.principal
    limit = await runs.admit(starter, app.state.rate_limiter)  # 429 before anything is read
    if thread_id is not None:
        await threads.get(app.state.pool, principal, thread_id)  # then 404 before the assistant is looked for
    agent = await service.resolve(app.state.pool, principal, body.assistant_id)
    new = runs.NewRun(agent["id"], body.input or None, thread_id, body.multitask_strategy,
                      options={"stream_mode": body.modes()}, metadata=body.metadata or {})
    run = await runs.create(app.state.pool, principal, app.state.settings, new, starter.limits)  # counted by `admit`
    return run, limit


async def _waited(request: Request, principal: Principal, run: dict[str, Any],
                  limit: dict[str, str] | None = None) -> JSONResponse:
    ended = await runs.wait(request.app.state.pool, principal, run["id"], WAIT_S, request.app.state.run_waiter, created=run)
    headers = stream.links(run)
    if "Location" in headers:
        headers["Location"] = headers["Content-Location"] + "/join"
    return JSONResponse(service.final_values(ended), headers={**(limit or {}), **headers})


def _streamed(request: Request, principal: Principal, run: dict[str, Any], modes: list[str], after: int = 0,
              cancel_on_disconnect: bool = False, headers: dict[str, str] | None = None) -> EventSourceResponse:
    pool = request.app.state.pool

    async def on_close(_message) -> None:
        if cancel_on_disconnect:
            await runs.cancel(pool, principal, run["id"])

    return EventSourceResponse(stream.frames(pool, principal, run, modes, after), headers={**(headers or {}), **stream.links(run)}, ping=5,
                               ping_message_factory=events.heartbeat, client_close_handler_callable=on_close)


@router.post("/threads/{thread_id}/runs", responses=THREAD_RUN_ERRORS)
async def create_run(thread_id: str, body: RunCreate, request: Request, starter: runs.Starter = Depends(run_starter)) -> JSONResponse:
    """Queue a run on the thread (after the runs already on it, by default)."""
    run, limit = await _start(request, starter, body, _thread_id(thread_id))
    return JSONResponse(service.run(run), headers={**limit, "Content-Location": stream.links(run)["Content-Location"]})


@router.post("/threads/{thread_id}/runs/wait", responses=THREAD_RUN_ERRORS)
async def wait_run(thread_id: str, body: RunCreate, request: Request, starter: runs.Starter = Depends(run_starter)) -> JSONResponse:
    """Run on the thread and answer with the final state (`__error__` when the run failed)."""
    return await _waited(request, starter.principal, *await _start(request, starter, body, _thread_id(thread_id)))


@router.post("/threads/{thread_id}/runs/stream", response_class=EventSourceResponse, responses=THREAD_RUN_ERRORS)
async def stream_run(thread_id: str, body: RunCreate, request: Request, starter: runs.Starter = Depends(run_starter)):
    """Run on the thread and stream its events (SSE). Leaving the stream does not stop the run
    unless `on_disconnect` is `cancel`."""
    run, limit = await _start(request, starter, body, _thread_id(thread_id))
    return _streamed(request, starter.principal, run, body.modes(), cancel_on_disconnect=body.on_disconnect == "cancel", headers=limit)


@router.post("/runs", responses=STATELESS_RUN_ERRORS)
async def create_stateless_run(body: RunCreate, request: Request, starter: runs.Starter = Depends(run_starter)) -> JSONResponse:
    """Queue a run without a thread."""
    run, limit = await _start(request, starter, body, None)
    return JSONResponse(service.run(run), headers={**limit, **stream.links(run)})


@router.post("/runs/wait", responses=STATELESS_RUN_ERRORS)
async def wait_stateless_run(body: RunCreate, request: Request, starter: runs.Starter = Depends(run_starter)) -> JSONResponse:
    """Run without a thread and answer with the final state."""
    return await _waited(request, starter.principal, *await _start(request, starter, body, None))


@router.post("/runs/stream", response_class=EventSourceResponse, responses=STATELESS_RUN_ERRORS)
async def stream_stateless_run(body: RunCreate, request: Request, starter: runs.Starter = Depends(run_starter)):
    """Run without a thread and stream its events (SSE)."""
    run, limit = await _start(request, starter, body, None)
    return _streamed(request, starter.principal, run, body.modes(), cancel_on_disconnect=body.on_disconnect == "cancel", headers=limit)


@router.get("/threads/{thread_id}/runs")
async def list_runs(thread_id: str, request: Request, limit: int = Query(10, ge=1, le=1000), offset: int = Query(0, ge=0),
                    status: RunStatus | None = Query(None), select: list[str] | None = Query(None),
                    principal: Principal = caller("agents:read")) -> list:
    """The thread's runs, newest first, optionally only those of one status and the `select`ed fields."""
    pool = request.app.state.pool
    found = await runs.on_thread(pool, principal, _thread_id(thread_id), limit, offset, status)
    return [service.selected(service.run(r), select) for r in found]


async def _run_on(request: Request, principal: Principal, thread_id: str, run_id: str) -> dict[str, Any]:
    """The run, only when it is on that thread of this team."""
    found = service.as_uuid(run_id)
    if found is None:
        raise NotFound("no such run")
    return await runs.get(request.app.state.pool, principal, found, _thread_id(thread_id))


@router.get("/threads/{thread_id}/runs/{run_id}")
async def get_run(thread_id: str, run_id: str, request: Request, principal: Principal = caller("agents:read")) -> dict:
    """One run of the thread."""
    return service.run(await _run_on(request, principal, thread_id, run_id))


@router.get("/threads/{thread_id}/runs/{run_id}/join")
async def join_run(thread_id: str, run_id: str, request: Request, principal: Principal = caller("agents:read")) -> JSONResponse:
    """Wait for the run and answer with the final state, like `…/runs/wait`."""
    return await _waited(request, principal, await _run_on(request, principal, thread_id, run_id))


@router.get("/threads/{thread_id}/runs/{run_id}/stream", response_class=EventSourceResponse)
async def join_stream(thread_id: str, run_id: str, request: Request, cancel_on_disconnect: bool = Query(False),
                      stream_mode: list[str] | None = Query(None),
                      last_event_id: str | None = Header(None, alias="Last-Event-ID"),
                      principal: Principal = caller("agents:read")):
    """Rejoin the run's stream, after `Last-Event-ID` when given."""
    run = await _run_on(request, principal, thread_id, run_id)
    modes = [m for m in (stream_mode or []) if m] or run["options"].get("stream_mode") or ["values"]
    service.known_modes(modes)
    return _streamed(request, principal, run, modes, events.last_event_id(last_event_id, None), cancel_on_disconnect)


@router.post("/threads/{thread_id}/runs/{run_id}/cancel", status_code=202, responses=error_responses(409))
async def cancel_run(thread_id: str, run_id: str, request: Request, wait: bool | int = Query(False),
                     action: str = Query("interrupt", pattern="^(interrupt|rollback)$"),
                     principal: Principal = caller("runs:write")) -> Response:
    """Cancel the run. `action=interrupt`: it ends `interrupted`, its checkpoints stay. `action=rollback`:
    it is then deleted with the checkpoints it wrote (409 once it has ended); the answer has no
    body, and with `wait` it is 204 once the run is gone."""
    run = await _run_on(request, principal, thread_id, run_id)
    pool, waiter = request.app.state.pool, request.app.state.run_waiter
    if action == "rollback":
        await runs.roll_back(pool, principal, run["id"], run["thread_id"], request.app.state.settings.runs.queue)
        gone = wait and await runs.gone(pool, principal, run["id"], WAIT_S, waiter)
        return Response(status_code=204 if gone else 202)
    ended = await runs.cancel(pool, principal, run["id"], run["thread_id"])
    if wait:
        ended = await runs.wait(pool, principal, run["id"], WAIT_S, waiter)
    return JSONResponse(service.run(ended), status_code=202)
