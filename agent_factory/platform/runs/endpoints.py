"""`/v1/agents/{id}/runs`, `/v1/runs` and `/v1/threads`: hosted runs, their events and threads."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Depends, Header, Query, Request, Response
from fastapi.responses import JSONResponse
from sse_starlette import EventSourceResponse

from ..auth import Principal
from ..errors import error_responses
from ..fields import single_valued_query
from ..threads import service as threads
from . import events, service
from .access import caller, run_starter
from .schemas import RunIn, RunOut, ThreadIn, ThreadOut, ThreadState

router = APIRouter(tags=["runs"], responses=error_responses(400, 401, 403, 422),
                   dependencies=[Depends(single_valued_query)])
WAIT_MAX_S = 300.0


@router.post("/v1/agents/{agent_id}/runs", status_code=202, response_model=RunOut,
             responses={200: {"model": RunOut, "description": "with `wait=true`: the run once it ended"},
                        **error_responses(402, 404, 409, 429)})
async def start_run(agent_id: UUID, body: RunIn, request: Request,
                    wait: bool = Query(False, description="answer when the run has ended (up to `timeout` seconds)"),
                    timeout: float = Query(WAIT_MAX_S, gt=0, le=WAIT_MAX_S),
                    starter: service.Starter = Depends(run_starter)) -> Response:
    """Queue a run of the agent's latest version; 202 with the run (poll `GET /v1/runs/{id}` or
    stream `GET /v1/runs/{id}/events`), or with `wait=true` the ended run."""
    app = request.app
    new = service.NewRun(agent_id, body.input, body.thread_id, body.multitask_strategy, metadata=body.metadata)
    run, headers = await service.start(app.state.pool, starter, app.state.settings, new, app.state.rate_limiter)
    if wait:
        run = await service.wait(app.state.pool, starter.principal, run["id"], timeout, app.state.run_waiter, created=run)
    done = run["status"] in ("success", "error", "timeout", "interrupted")
    body_out = RunOut(**service.public(run)).model_dump(mode="json")
    return JSONResponse(body_out, status_code=200 if done and wait else 202,
                        headers={**headers, "Location": f"/v1/runs/{run['id']}"})


@router.get("/v1/runs/{run_id}", response_model=RunOut, responses=error_responses(404))
async def get_run(run_id: UUID, request: Request, principal: Principal = caller("agents:read")) -> RunOut:
    """One run: status, inputs, outputs, guard results, ledger, cost, the version it ran."""
    return RunOut(**service.public(await service.get(request.app.state.pool, principal, run_id)))


@router.get("/v1/runs", response_model=list[RunOut])
async def list_runs(request: Request, limit: int = Query(50, ge=1, le=100),
                    principal: Principal = caller("agents:read")) -> list[RunOut]:
    """The team's most recent runs, newest first."""
    return [RunOut(**service.public(r)) for r in await service.recent(request.app.state.pool, principal, limit)]


@router.get("/v1/runs/{run_id}/events", responses={200: {"content": {"text/event-stream": {}},
                                                         "description": "server-sent events"}, **error_responses(404)})
async def run_events(run_id: UUID, request: Request, after: int | None = Query(None, ge=0),
                     last_event_id: str | None = Header(None, alias="Last-Event-ID"),
                     principal: Principal = caller("agents:read")) -> EventSourceResponse:
    """The run's events as server-sent events, from the start (or after `Last-Event-ID`): `run.start`,
    `step.start`, `step.end`, `step.error`, `llm` (one per model attempt, with its cost), `guards`,
    and `run.end` with the status and outputs. Leaving the stream never stops the run."""
    pool = request.app.state.pool
    await service.get(pool, principal, run_id)  # 404 before the stream starts

    async def stream():
        async for row in events.tail(pool, principal, run_id, events.last_event_id(last_event_id, after)):
            yield events.frame(row["event"], row["data"], row["seq"])

    return EventSourceResponse(stream(), ping=5, ping_message_factory=events.heartbeat)


@router.post("/v1/runs/{run_id}/cancel", status_code=202, response_model=RunOut, responses=error_responses(404))
async def cancel_run(run_id: UUID, request: Request, principal: Principal = caller("runs:write")) -> RunOut:
    """Cancel the run: a queued run ends `interrupted` at once, a running one as soon as its
    worker notices (its finished steps stay checkpointed). An ended run is returned as it is."""
    return RunOut(**service.public(await service.cancel(request.app.state.pool, principal, run_id)))


@router.post("/v1/threads", status_code=201, response_model=ThreadOut)
async def create_thread(body: ThreadIn, request: Request, principal: Principal = caller("runs:write")) -> ThreadOut:
    """A new thread (its id minted here); start runs on it with `thread_id` in the run body."""
    return ThreadOut(**await threads.create(request.app.state.pool, principal, body.metadata))


@router.get("/v1/threads/{thread_id}", response_model=ThreadOut, responses=error_responses(404))
async def get_thread(thread_id: UUID, request: Request, principal: Principal = caller("agents:read")) -> ThreadOut:
    """One thread and its status."""
    return ThreadOut(**await threads.get(request.app.state.pool, principal, thread_id))


@router.get("/v1/threads/{thread_id}/state", response_model=ThreadState, responses=error_responses(404))
async def thread_state(thread_id: UUID, request: Request, principal: Principal = caller("agents:read")) -> ThreadState:
    """The thread's values after its last run and its newest checkpoint id."""
    thread, found = await threads.state(request.app.state.pool, principal, thread_id)
    return ThreadState(thread_id=thread["id"], status=thread["status"], values=thread["values"] or {},
                       checkpoint_id=found[0]["checkpoint_id"] if found else None)
