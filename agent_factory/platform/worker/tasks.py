"""The run job: claim the run (a new attempt), run the spec with Postgres checkpoints, stream its
events, and write the outcome — every write fenced by the attempt, so a worker that stalled and
was replaced changes nothing.

A retried run (its worker died, or was shut down) resumes from its thread's last checkpoint when
the dead attempt got past the checkpoint it started from; the LLM calls its finished steps made
stay in the ledger from the events of that attempt and are not made, nor paid for, again.

Events reach the database in batches: the ones emitted within `EVENT_BATCH_S` of each other share
one transaction, and the ones still waiting when the run ends are written in the transaction of its
outcome, before `run.end`. A run shorter than the batch window costs no event transaction at all.
"""

from __future__ import annotations

import asyncio
import json
import logging
from contextlib import nullcontext, suppress
from decimal import Decimal
from typing import Any
from uuid import UUID

import asyncpg

from agent_factory.runtime.router import PROVIDER_KEYS

from ..agents.compile import HOSTED
from ..db.tenant import tenant_transaction
from ..quotas import service as quotas
from ..settings import Settings
from ..runs import repository
from ..runs.waiter import RunWaiter
from ..secrets import service as secrets
from .checkpoints import CheckpointConnections, latest_checkpoint, team_saver
from .execute import SpecNoLongerChecks, execute, ledger_json, spec_and_plan

log = logging.getLogger("agent_factory.platform.worker")
EVENT_BATCH_S = 0.05  # how long an event may wait for others to share its transaction (and for an SSE client)


class LostRun(Exception):
    """Another attempt holds the run now: this one stops without writing anything."""


async def run_job(pool: asyncpg.Pool, settings: Settings, run_id: UUID, team_id: UUID, aborted=None,
                  vault=None, checkpoints: CheckpointConnections | None = None,
                  waiter: RunWaiter | None = None) -> None:
    """Process one run job (see the module doc); `aborted()` says why the queue cancelled it;
    the team's provider keys (decrypted with `vault`) serve this run only. The run checkpoints on a
    connection of `checkpoints` (the worker's pool), else on one of its own; `waiter` (the API
    process's, for a worker inside it) is handed the run when it ends."""
    with waiter.holding(str(run_id)) if waiter is not None else nullcontext():
        async with pool.acquire() as conn:  # one statement, its own transaction
            claimed = await repository.claim(conn, team_id, run_id, settings.runs.max_attempts,
                                             f"the run's worker stopped {settings.runs.max_attempts} times",
                                             secrets=vault is not None)
        if claimed is None:
            return  # not this worker's to run; a run stuck with no attempt left ended as an error
        run = dict(claimed)
        text, names, sealed = run.pop("spec_text"), run.pop("secret_names"), run.pop("sealed_secrets")
        keys = secrets.for_run(vault, team_id, zip(names or (), sealed or ()))
        attempt = Attempt(pool, settings, run, text, checkpoints, waiter)
        token = PROVIDER_KEYS.set(keys)  # this task and the tasks it starts: this run only
        try:
            await attempt.run(aborted)
        finally:
            PROVIDER_KEYS.reset(token)


class Attempt:
    """One attempt at a run: its event writer, heartbeat and outcome."""

    def __init__(self, pool: asyncpg.Pool, settings: Settings, run: dict[str, Any], text: str,
                 checkpoints: CheckpointConnections | None = None, waiter: RunWaiter | None = None) -> None:
        self.pool, self.settings, self.run_row, self.text = pool, settings, run, text
        self.checkpoints, self.waiter = checkpoints, waiter
        self.id, self.team, self.number = run["id"], run["team_id"], run["attempt"]
        self.pending: list[tuple[str, Any]] = []  # events not written yet, oldest first
        self.nudge = asyncio.Event()  # set when an event is pending or the writer must stop
        self.stop = asyncio.Event()  # set when the writer must stop (cuts its batch window short)
        self.llm: list[dict[str, Any]] = []  # this attempt's model calls so far

    async def run(self, aborted) -> None:
        thread = str(self.run_row["thread_id"] or self.id)
        writer = asyncio.create_task(self._write_events())
        work = asyncio.current_task()
        beat = asyncio.create_task(self._heartbeat(work))
        try:
            async with self._saver(thread) as saver:
                inputs = await self._inputs(saver, thread)
                self.emit("run.start", {"attempt": self.number, "resumed": inputs is None})
                result = await self._execute(inputs, thread, saver)
                await saver.drain()  # the outcome only once the checkpoints it reports are in
                # before the checkpoint connection goes back to its pool: its reset is not the client's wait
                await self._finish(result, writer)
        except asyncio.CancelledError:
            reason = aborted() if aborted else None
            if reason is not None and getattr(reason, "value", "") == "shutdown":
                raise  # the queue retries the job on another worker: resumable, nothing written
            await self._finish_cancelled(writer)
            raise
        except LostRun:
            log.warning("run %s: attempt %s lost the run to a newer attempt; nothing written", self.id, self.number)
        finally:
            beat.cancel()
            await self._stop_writer(writer)
            if self.pending:  # a shutdown or a lost run: written if the run is still this attempt's
                with suppress(Exception):
                    await self._write(self._take_pending())

    def _saver(self, thread: str):
        if self.checkpoints is not None:
            return self.checkpoints.saver(self.team, thread if self._new_thread() else None)
        return team_saver(self.settings.database.app, self.team, batching=True)

    def _new_thread(self) -> bool:
        """A first attempt on a thread of its own, just made: no checkpoint to look up."""
        return self.number == 1 and self.run_row.get("base_checkpoint") is not None

    async def _inputs(self, saver, thread: str) -> dict[str, Any] | None:
        """The inputs, or None to resume: a retried attempt whose predecessor checkpointed past
        the checkpoint the run started from goes on from there."""
        base = self.run_row.get("base_checkpoint")
        if self._new_thread():
            return self.run_row["input"] or None
        latest = await latest_checkpoint(saver, thread) or ""
        if base is None:
            async with tenant_transaction(self.pool, self.team) as conn:
                await repository.set_base_checkpoint(conn, self.id, self.number, latest)
            return self.run_row["input"] or None
        return None if latest != base else (self.run_row["input"] or None)

    async def _execute(self, inputs, thread: str, saver):
        options = self.run_row["options"]
        try:
            async with asyncio.timeout(self.settings.runs.timeout_s):
                return await execute(self.text, inputs, thread=thread, saver=saver, tier=options.get("tier"),
                                     config_path=self.settings.config_path, replay_dir=self.settings.runs.replay_dir,
                                     on_event=self._on_event)
        except TimeoutError:
            return _NoResult("timeout", f"the run took longer than {self.settings.runs.timeout_s:g} s", "Timeout")
        except SpecNoLongerChecks as exc:  # not transient: ended now, not retried by the queue
            return _NoResult("error", str(exc), "SpecError")

    # ------------------------------------------------------------ events and heartbeat

    def _on_event(self, event: dict[str, Any]) -> None:
        kind = event.get("event")
        # step updates may hold outputs the guards have not passed yet: they never leave the run
        data = self.emit(f"step.{kind}" if kind in ("start", "end", "error") else str(kind),
                         {k: v for k, v in event.items() if k not in ("event", "spec", "update")})
        if kind == "llm":
            self.llm.append(data)

    def emit(self, name: str, data: Any) -> Any:
        """Queue an event for the next batch; its data as written (plain JSON)."""
        data = _jsonable(data)
        self.pending.append((name, data))
        self.nudge.set()
        return data

    async def _write_events(self) -> None:
        """Write pending events a batch at a time until told to stop; what is pending then is
        written by whoever stopped it (in the run's outcome, so `run.end` comes last)."""
        while True:
            await self.nudge.wait()
            if not self.stop.is_set():
                with suppress(TimeoutError):  # the batch window, cut short by a stop
                    await asyncio.wait_for(self.stop.wait(), EVENT_BATCH_S)
            if self.stop.is_set():
                return
            await self._write(self._take_pending())

    async def _stop_writer(self, writer: asyncio.Task) -> None:
        """Stop the writer once the batch it may be writing is in (events keep their order)."""
        self.stop.set()
        self.nudge.set()
        try:
            await asyncio.shield(writer)
        except asyncio.CancelledError:
            pass
        except Exception:  # noqa: BLE001 - its batch is lost; what is pending is written by the caller
            log.exception("run %s: writing events failed", self.id)

    def _take_pending(self) -> list[tuple[str, Any]]:
        batch, self.pending = self.pending, []
        self.nudge.clear()
        return batch

    async def _write(self, batch: list[tuple[str, Any]]) -> None:
        if batch:
            async with tenant_transaction(self.pool, self.team) as conn:
                await repository.add_events(conn, self.team, self.id, self.number, batch)

    async def _heartbeat(self, work: asyncio.Task) -> None:
        while True:
            await asyncio.sleep(self.settings.runs.heartbeat_s)
            try:
                async with tenant_transaction(self.pool, self.team) as conn:
                    still = await repository.heartbeat(conn, self.id, self.number)
            except (asyncpg.PostgresError, OSError):
                still = None  # no heartbeat means no authority: stop rather than race the next attempt
            if still is None or still["cancel_requested"]:
                work.cancel()
                return

    # ------------------------------------------------------------ outcome

    async def _finish(self, result, writer: asyncio.Task) -> None:
        status = result.status if isinstance(result, _NoResult) else ("success" if result.ok else "error")
        await self._stop_writer(writer)
        # a run without a result has no result ledger: its calls are the ones seen so far
        ledger = await self._earlier_ledger() + (self.llm if isinstance(result, _NoResult) else ledger_json(result))
        cost = _spent(ledger)
        values = _values(result, self._outputs()) if result.state else {}  # a spec error has no plan
        output = _jsonable(result.outputs) if status == "success" else None
        guards = _jsonable([g.as_json() for g in result.guards])
        error = _jsonable(result.error)
        if error and self.settings.runs.replay_dir is not None:  # the operator's folder is not the team's business
            error = error.replace(str(self.settings.runs.replay_dir), "the server's cassettes")
        # the guard step sent its own `guards` event as it ran
        row = await self._end(status, output, values, error, result.error_type, guards, ledger, cost,
                              ("run.end", {"status": status, "output": output, "error": error, "cost_usd": f"{cost:.6f}"}))
        if row is None:
            raise LostRun
        if self.waiter is not None:
            self.waiter.ended(dict(row))

    async def _finish_cancelled(self, writer: asyncio.Task) -> None:
        await self._stop_writer(writer)
        with suppress(Exception):
            ledger = await self._earlier_ledger() + self.llm
            await self._end("interrupted", None, None, "the run was cancelled", "Cancelled", [], ledger, _spent(ledger),
                            ("run.end", {"status": "interrupted", "output": None, "error": "the run was cancelled"}))

    async def _end(self, status: str, output, values, error, error_type, guards, ledger: list, cost: Decimal,
                   end: tuple[str, Any]) -> asyncpg.Record | None:
        """Write the outcome, its quota and thread, the pending events then `end`, and the NOTIFY, in
        one statement; None when another attempt holds the run (its pending events are kept then,
        as when the statement fails: whoever stops the attempt writes them if the run is still its)."""
        pending, row = self._take_pending(), None
        give_back = quotas.gives_back_run(called_a_model=bool(ledger), ok=status == "success")
        try:
            async with self.pool.acquire() as conn:
                row = await repository.finish(conn, self.team, self.id, self.number, status, output, values, error,
                                              error_type, guards, ledger, cost, give_back, [*pending, end])
        finally:
            if row is None:
                self.pending[:0] = pending
        return row

    async def _earlier_ledger(self) -> list[dict[str, Any]]:
        """What earlier attempts paid for (the first attempt has none to look up)."""
        if self.number == 1:
            return []
        async with tenant_transaction(self.pool, self.team) as conn:
            return await repository.earlier_ledger(conn, self.id, self.number)

    def _outputs(self) -> tuple[str, ...]:
        return spec_and_plan(self.text, self.settings.config_path)[1].outputs


class _NoResult:
    """Stands for the result of a run that ended without one: stopped by the time limit, or its
    stored spec no longer checks on this server."""

    ok = False
    outputs: dict = {}
    guards: list = []
    ledger: list = []
    state: dict = {}

    def __init__(self, status: str, error: str, error_type: str) -> None:
        self.status, self.error, self.error_type = status, error, error_type


def _spent(ledger: list[dict[str, Any]]) -> Decimal:
    """What the model attempts of a ledger cost together."""
    return sum((Decimal(a["cost"]) for a in ledger), Decimal(0))


def _values(result, outputs: tuple[str, ...]) -> dict[str, Any]:
    """The state a client may see: no bookkeeping channels, and outputs only once the guards passed."""
    hidden = set() if result.ok else set(outputs)
    return _jsonable({k: v for k, v in (result.state or {}).items() if not k.startswith("__") and k not in hidden})


def _jsonable(value: Any) -> Any:
    """`value` as plain JSON data, with the server's folder taken out of any text (a hosted spec is
    `spec.md` to its owner: error messages name it that way, never by the server's path)."""
    return json.loads(json.dumps(value, default=_plain).replace(_HOSTED_PREFIX, ""))


_HOSTED_PREFIX = json.dumps(f"{HOSTED}/")[1:-1]


def _plain(value: Any) -> Any:
    """JSON for what `json` does not know: messages and other models as their dicts, the rest as text."""
    dump = getattr(value, "model_dump", None)
    return dump(mode="json") if callable(dump) else str(value)
