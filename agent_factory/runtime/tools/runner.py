"""`ToolRunner`: the runtime's one entry point for calling tools during a run.

It looks tools up by name, invokes them with the run's `ToolContext`, and records every
call (`calls`), so the run can expose `run.tools_called` to invariants and examples.
Use it as an async context manager: entering prepares the python tools (their closed schemas),
leaving stops the MCP servers it started.
"""

from __future__ import annotations

import asyncio
import difflib
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict

from .config import ToolConfig
from .context import ToolContext
from .guarded import applicable, guard_view
from .model import ToolSpec
from .python_binding import prepared
from .result import ToolResult


class ToolCall(BaseModel):
    """One recorded call: tool `name`, the `args` as given, `ok`, `latency_s`, `error`."""

    model_config = ConfigDict(frozen=True)

    name: str
    args: dict[str, Any]
    ok: bool
    latency_s: float
    error: str | None = None


class ToolRunner:
    """Calls the tools of one run and records each call.

    `tools` defaults to the built-ins; `config` or a ready `context` supplies settings."""

    def __init__(
        self,
        tools: Mapping[str, ToolSpec] | None = None,
        config: ToolConfig | None = None,
        *,
        context: ToolContext | None = None,
    ) -> None:
        if tools is None:
            from .builtin import builtin_tools

            tools = builtin_tools()
        self.context = context or ToolContext(config=config or ToolConfig())
        self.tools = dict(tools)
        self.calls: list[ToolCall] = []

    @property
    def tools_called(self) -> list[str]:
        """Names of the tools called so far, in order of completion (`run.tools_called`)."""
        return [call.name for call in self.calls]

    def function_schemas(self) -> list[dict[str, Any]]:
        """The tools in function-calling form, for the model."""
        return [spec.function_schema() for spec in self.tools.values()]

    async def call(
        self, name: str, args: Mapping[str, Any] | None = None, *, timeout_s: float | None = None
    ) -> ToolResult:
        """Call tool `name` with `args`; an unknown name is a failed result (models invent names)."""
        spec = self.tools.get(name)
        if spec is None:
            result = ToolResult(ok=False, error=self._unknown(name))
        else:
            result = await spec.invoke(args, self.context, timeout_s=timeout_s)
        self.calls.append(
            ToolCall(name=name, args=dict(args or {}), ok=result.ok, latency_s=result.latency_s, error=result.error)
        )
        return result

    def guard_view(self, name: str, args: Mapping[str, Any]) -> dict[str, Any]:
        """The arguments of a call to `name` as argument guards see them (see `guarded`)."""
        return guard_view(self.tools.get(name), args)

    def applicable(self, name: str, args: Mapping[str, Any], invariants: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The argument guards among `invariants` that judge this call (see `guarded.applicable`)."""
        return applicable(self.tools.get(name), args, invariants)

    def _unknown(self, name: str) -> str:
        close = difflib.get_close_matches(name, list(self.tools), n=1)
        hint = f"; did you mean '{close[0]}'?" if close else ""
        return f"unknown tool '{name}'{hint} (available: {', '.join(sorted(self.tools)) or 'none'})"

    async def aclose(self) -> None:
        """Stop whatever the tools started (MCP servers)."""
        await self.context.aclose()

    async def prepare(self) -> None:
        """Give each python tool the configuration allows the closed schema of its function.
        Importing reads files, so it runs in a thread: the event loop (LangGraph's server
        refuses blocking calls on it) never waits on an import."""
        for name, spec in list(self.tools.items()):
            if spec.kind == "python":
                self.tools[name] = await asyncio.to_thread(prepared, spec, self.context.config)

    async def __aenter__(self) -> ToolRunner:
        await self.prepare()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()


async def call_tool(
    name: str,
    args: Mapping[str, Any] | None = None,
    *,
    tools: Mapping[str, ToolSpec] | None = None,
    config: ToolConfig | None = None,
    record: list[ToolCall] | None = None,
    timeout_s: float | None = None,
) -> ToolResult:
    """Call one tool with a fresh runner (closed afterwards); the call is appended to `record`
    when given. For a whole run, keep one `ToolRunner` instead."""
    async with ToolRunner(tools, config) as runner:
        result = await runner.call(name, args, timeout_s=timeout_s)
    if record is not None:
        record.extend(runner.calls)
    return result
