"""The tool model: what a tool is (`ToolSpec`); what a call returns is `result.ToolResult`.

A `ToolSpec` is plain data (name, description, JSON Schema of its arguments, a description
of its result) plus the coroutine that does the work. The compiler only reads the data, so
`ToolSpec` is a frozen record like the IR (`compiler/record.py`) and this module does not
import pydantic: `check` reads the built-in tools on every start. The runtime calls `invoke`,
which validates arguments, applies the timeout and turns every expected failure into a
`ToolResult` with `ok=False`.
"""

from __future__ import annotations

import inspect
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any, Literal

from agent_factory.compiler.record import Record

from .schema import validate_args

if TYPE_CHECKING:
    from .context import ToolContext
    from .result import ToolResult

logger = logging.getLogger(__name__)

Handler = Callable[[dict[str, Any], Any], Awaitable[Any]]
"""The coroutine behind a tool: validated arguments and the `ToolContext` in, JSON-able content out.
It raises `ToolError` for failures the caller should see as a result."""

ToolKind = Literal["builtin", "http", "python", "mcp", "plugin"]


class ToolError(Exception):
    """An expected tool failure (bad input, refused address, missing file, remote error).

    `invoke` turns it into `ToolResult(ok=False, error=str(exc))`; the message is shown to
    the model and to the user, so it says what was found and what was expected."""


class ToolSpec(Record):
    """A tool: `name` (snake_case), `description`, `parameters` (JSON Schema of the
    arguments object, with `required`), `result` (what the content is), `kind` (where it
    comes from), `binding` (the spec's binding text for bound tools) and the `handler`
    coroutine (excluded from dumps)."""

    name: str
    description: str
    parameters: dict[str, Any]
    result: str = ""
    kind: ToolKind = "plugin"
    binding: str | None = None
    handler: Handler | None = None

    def model_dump(self, *, mode: Literal["python", "json"] = "python") -> dict[str, Any]:
        """The tool's data: every field but the `handler`, which is code."""
        data = super().model_dump(mode=mode)
        del data["handler"]
        return data

    def accepts(self, argument: str) -> bool:
        """Whether a call may pass `argument`: it is declared, or the schema is open (`mcp:`
        tools, extra `http:` fields), so argument guards apply to it either way."""
        return argument in self.parameters.get("properties", {}) or bool(self.parameters.get("additionalProperties", True))

    def function_schema(self) -> dict[str, Any]:
        """The OpenAI/LiteLLM function-calling description of this tool."""
        return {
            "type": "function",
            "function": {"name": self.name, "description": self.description, "parameters": self.parameters},
        }

    async def invoke(
        self, args: Mapping[str, Any] | None, ctx: ToolContext | None = None, *, timeout_s: float | None = None
    ) -> ToolResult:
        """Call the tool: validate `args` against `parameters` (filling defaults), run the
        handler under the timeout (`timeout_s`, else the context's `config.timeout_s`),
        and return a `ToolResult`. Only programmer errors raise (args not a mapping, no handler)."""
        if args is not None and not isinstance(args, Mapping):
            raise TypeError(f"tool arguments must be a mapping, got {type(args).__name__}")
        if self.handler is None:
            raise RuntimeError(f"tool {self.name!r} has no handler")
        if ctx is None:
            from .context import ToolContext

            ctx = ToolContext()
        from .result import ToolResult

        limit = ctx.config.timeout_s if timeout_s is None else timeout_s
        started = time.perf_counter()
        try:
            content = await self._run(dict(args or {}), ctx, limit)
        except ToolError as exc:
            return ToolResult(ok=False, error=str(exc), latency_s=time.perf_counter() - started)
        return ToolResult(ok=True, content=content, latency_s=time.perf_counter() - started)

    async def _run(self, args: dict[str, Any], ctx: ToolContext, limit: float) -> Any:
        """Validate, then run the handler under `limit` seconds; failures become `ToolError`."""
        import asyncio  # here, not at the top: the compiler reads ToolSpecs without running any

        problems, clean = validate_args(self.parameters, args)
        if problems:
            raise ToolError("invalid arguments: " + "; ".join(problems))
        timer = asyncio.timeout(limit)
        try:
            async with timer:
                value = self.handler(clean, ctx)  # type: ignore[misc]
                # Plugin authors sometimes write a plain function; accept its value as is.
                return await value if inspect.isawaitable(value) else value
        except TimeoutError as exc:
            # A handler may raise TimeoutError of its own; only our deadline is a tool timeout.
            if timer.expired():
                raise ToolError(f"timed out after {limit:g} s") from None
            raise self._bug(exc) from exc
        except ToolError:
            raise
        except Exception as exc:  # a bug in a tool must not take the whole run down
            raise self._bug(exc) from exc

    def _bug(self, exc: Exception) -> ToolError:
        """Log an unexpected exception with its traceback; the error that reports it as a bug."""
        logger.error("tool %s failed unexpectedly", self.name, exc_info=exc)
        return ToolError(
            f"internal error in tool '{self.name}': {type(exc).__name__}: {exc} (this is a bug; please report it)"
        )
