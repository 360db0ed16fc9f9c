"""`mcp:` bindings: `(mcp: files/read_text_file)` calls tool `read_text_file` of the MCP
server `files`, a stdio server declared in `[tools.mcp_servers.files]`.

A spec may call a server only when the operator's `[tools] allow_mcp` lists it. Servers get
a minimal environment (`PATH`, `HOME`, the user and terminal variables) plus their own `env`,
never the process's keys. Each server is started on first use and kept for the rest of the
run, and started again if it exited in between (`McpPool`); a background task owns the SDK's
connection context, because the SDK's context managers must be entered and left in the same
task while tool calls come from many tasks. The
server's stderr goes to a temporary file whose tail explains a server that fails.

The official `mcp` SDK is imported lazily. Both of its client APIs are supported: 1.x
(`ClientSession` over `stdio_client`) and 2.x (`mcp.Client`); which one is installed
depends on other packages (the `[openhands]` extra pins mcp 1.x).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import tempfile
from collections.abc import Mapping
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from .model import ToolError, ToolSpec
from .schema import validate_args

if TYPE_CHECKING:
    from agent_factory.compiler.ir import ToolRef

    from .config import McpServerConfig
    from .context import ToolContext

logger = logging.getLogger(__name__)

STOP_TIMEOUT_S = 10.0
_STDERR_TAIL_CHARS = 400
_OPEN_SCHEMA = {"type": "object", "properties": {}, "required": [], "additionalProperties": True}


def parse_target(target: str) -> tuple[str, str]:
    """`server/tool` as (server, tool); `ValueError` when malformed."""
    server, _, tool = target.partition("/")
    if not server or not tool:
        raise ValueError(f"an mcp binding must look like 'server/tool', got {target!r}")
    return server, tool


def mcp_binding_tool(ref: ToolRef) -> ToolSpec:
    """The `ToolSpec` of a spec tool bound with `mcp:`. The argument schema is open: the
    server describes its tools only once it runs (see `McpPool.list_tools`)."""
    try:
        server, tool = parse_target(ref.binding.target)
    except ValueError as exc:
        raise ValueError(f"tool '{ref.name}': {exc}") from None

    async def handler(args: dict[str, Any], ctx: ToolContext) -> Any:
        if not ctx.config.mcp_allowed(server):
            raise ToolError(
                f"MCP server '{server}' is not allowed for mcp: bindings: its tools run with your permissions; "
                f"add '{server}' to [tools] allow_mcp in agent-factory.toml to let specs call it"
            )
        return await ctx.mcp().call(server, tool, args, ctx.config.timeout_s)

    return ToolSpec(
        name=ref.name,
        description=ref.description or f"Tool '{tool}' of MCP server '{server}'.",
        parameters=dict(_OPEN_SCHEMA),
        result="The tool's structured content when it has one, else its text.",
        kind="mcp",
        binding=f"{server}/{tool}",
        handler=handler,
    )


class McpPool:
    """The MCP servers of one run, started on demand and stopped by `aclose`."""

    def __init__(self, servers: Mapping[str, McpServerConfig]) -> None:
        self._servers = dict(servers)
        self._connections: dict[str, _Connection] = {}
        self._lock: asyncio.Lock | None = None

    async def call(self, server: str, tool: str, args: dict[str, Any], timeout_s: float) -> Any:
        """Call `tool` on `server` with `args` checked against the schema the server declares for
        it (types, required, ranges; values coerced as for any tool); the content of its result,
        or `ToolError`. A server that exited since the last call is started again, once."""
        try:
            return await self._call(server, tool, args, timeout_s)
        except _ServerGone:
            pass
        try:
            return await self._call(server, tool, args, timeout_s)
        except _ServerGone as gone:
            raise ToolError(str(gone)) from None

    async def _call(self, server: str, tool: str, args: dict[str, Any], timeout_s: float) -> Any:
        connection = await self._connection(server)
        schema = await connection.schema(tool)
        if schema is not None:
            problems, args = validate_args(schema, args)
            if problems:
                raise ToolError(f"invalid arguments for MCP tool '{server}/{tool}': " + "; ".join(problems))
        return await connection.call(tool, args, timeout_s)

    async def list_tools(self, server: str) -> list[dict[str, Any]]:
        """The server's tools as `{name, description, parameters}` (JSON Schema of arguments)."""
        connection = await self._connection(server)
        return await connection.list_tools()

    async def aclose(self) -> None:
        """Stop every started server."""
        connections, self._connections = list(self._connections.values()), {}
        for connection in connections:
            await connection.stop()
            connection.close_stderr()

    async def _connection(self, server: str) -> _Connection:
        """The live connection to `server`, (re)started when needed."""
        config = self._servers.get(server)
        if config is None:
            configured = ", ".join(sorted(self._servers)) or "none"
            raise ToolError(f"unknown MCP server '{server}'; configured servers: {configured}")
        self._lock = self._lock or asyncio.Lock()
        async with self._lock:  # two first calls must not start two copies of one server
            connection = self._connections.get(server)
            if connection is None or not connection.alive:
                if connection is not None:
                    connection.close_stderr()
                connection = _Connection(server, config)
                await connection.start()
                self._connections[server] = connection
        return connection


class _ServerGone(Exception):
    """The pipe to a server was closed before a request went through it: the server exited, so
    the request never reached it and may be sent again to a fresh copy."""


def _pipe_closed(exc: BaseException) -> bool:
    import anyio  # loaded with the MCP SDK, never before a server is used

    return isinstance(exc, (anyio.ClosedResourceError, anyio.BrokenResourceError))


class _Connection:
    """One running server: a task that holds the SDK session open until `stop`."""

    def __init__(self, name: str, config: McpServerConfig) -> None:
        self.name = name
        self.config = config
        self._stopping = asyncio.Event()
        self._stderr = tempfile.TemporaryFile("w+", encoding="utf-8", errors="replace")
        self._task: asyncio.Task[None] | None = None
        self._schemas: asyncio.Future[dict[str, dict[str, Any]]] | None = None
        self._session: _Session | None = None

    @property
    def alive(self) -> bool:
        return self._task is not None and not self._task.done()

    async def start(self) -> None:
        """Start the server and wait for the MCP handshake."""
        ready: asyncio.Future[_Session] = asyncio.get_running_loop().create_future()
        self._task = asyncio.create_task(self._hold(ready), name=f"mcp-server:{self.name}")
        try:
            self._session = await ready
        except asyncio.CancelledError:  # the call timed out while the server was starting
            await self.stop()
            self.close_stderr()
            raise
        except Exception as exc:
            message = f"MCP server '{self.name}' did not start: {describe(exc)}"
            await self.stop()  # let the process exit first, so its last words are in the file
            message += self._stderr_tail()
            self.close_stderr()
            raise ToolError(message) from None

    async def _hold(self, ready: asyncio.Future[_Session]) -> None:
        """Open the session, hand it over, keep it open until asked to stop."""
        try:
            async with contextlib.AsyncExitStack() as stack:
                session = await open_session(stack, self.config, self._stderr)
                if ready.done():  # the starter gave up meanwhile
                    return
                ready.set_result(session)
                await self._stopping.wait()
        except Exception as exc:
            if not ready.done():
                ready.set_exception(exc)
            else:
                logger.warning("MCP server %s stopped: %s", self.name, describe(exc))

    async def call(self, tool: str, args: dict[str, Any], timeout_s: float) -> Any:
        """Call a tool; SDK and protocol errors become `ToolError`. A server that exits while the
        call waits fails it at once: the SDK may never answer a request whose pipe broke."""
        assert self._session is not None and self._task is not None
        request = asyncio.ensure_future(self._session.call_tool(tool, args, timeout_s))
        try:
            done, _ = await asyncio.wait((request, self._task), return_when=asyncio.FIRST_COMPLETED)
        except BaseException:  # the call's own timeout, or the run ending
            request.cancel()
            raise
        if request not in done:
            request.cancel()
            await asyncio.gather(request, return_exceptions=True)
            raise ToolError(f"MCP server '{self.name}' failed on tool '{tool}': the server exited during the call"
                            f"{self._stderr_tail()}")
        try:
            result = request.result()
        except Exception as exc:
            tail = "" if self.alive else self._stderr_tail()
            message = f"MCP server '{self.name}' failed on tool '{tool}': {describe(exc)}{tail}"
            if _pipe_closed(exc):  # the server exited: end this connection so the next one starts it
                await self.stop()
                raise _ServerGone(message) from None
            raise ToolError(message) from None
        return result_content(self.name, tool, result)

    async def list_tools(self) -> list[dict[str, Any]]:
        assert self._session is not None
        return await self._session.list_tools()

    async def schema(self, tool: str) -> dict[str, Any] | None:
        """The argument schema the server declares for `tool` (listed once per connection), or
        None when the server does not list it (the call then says what the server thinks)."""
        if self._schemas is None:
            self._schemas = asyncio.ensure_future(self._list_schemas())
        return (await asyncio.shield(self._schemas)).get(tool)

    async def _list_schemas(self) -> dict[str, dict[str, Any]]:
        try:
            return {entry["name"]: entry["parameters"] for entry in await self.list_tools()}
        except Exception as exc:  # a server that cannot list its tools can still be called
            logger.warning("MCP server %s did not list its tools: %s", self.name, describe(exc))
            return {}

    async def stop(self) -> None:
        """Ask the holder task to close the session (which ends the server); cancel it if stuck."""
        self._stopping.set()
        if self._task is not None and not self._task.done():
            try:
                await asyncio.wait_for(asyncio.shield(self._task), STOP_TIMEOUT_S)
            except TimeoutError:
                self._task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self._task

    def close_stderr(self) -> None:
        self._stderr.close()

    def _stderr_tail(self) -> str:
        """The end of the server's stderr, for error messages."""
        try:
            self._stderr.flush()
            self._stderr.seek(0)
            text = " ".join(self._stderr.read()[-_STDERR_TAIL_CHARS:].split())
        except (OSError, ValueError):  # already closed
            return ""
        return f"; its stderr ends with: {text}" if text else ""


class _Session:
    """The calls we need, over whichever SDK major version is installed."""

    def __init__(self, session: Any, *, modern: bool) -> None:
        self._session = session
        self._modern = modern

    async def call_tool(self, tool: str, args: dict[str, Any], timeout_s: float) -> Any:
        # 1.x takes a timedelta, 2.x seconds.
        timeout = timeout_s if self._modern else timedelta(seconds=timeout_s)
        return await self._session.call_tool(tool, args, read_timeout_seconds=timeout)

    async def list_tools(self) -> list[dict[str, Any]]:
        result = await self._session.list_tools()
        return [_tool_entry(tool) for tool in result.tools]


async def open_session(stack: contextlib.AsyncExitStack, config: McpServerConfig, errlog: Any) -> _Session:
    """Spawn the server and complete the MCP handshake; the stack closes both."""
    import mcp
    from mcp.client.stdio import StdioServerParameters, stdio_client

    params = StdioServerParameters(
        command=config.command, args=list(config.args), env={**minimal_environment(), **config.env}, cwd=config.cwd
    )
    transport = stdio_client(params, errlog=errlog)
    if hasattr(mcp, "Client"):  # mcp 2.x
        client = await stack.enter_async_context(mcp.Client(transport))
        return _Session(client, modern=True)
    read, write = await stack.enter_async_context(transport)
    session = await stack.enter_async_context(mcp.ClientSession(read, write))
    await session.initialize()
    return _Session(session, modern=False)


_INHERITED = ("HOME", "LOGNAME", "PATH", "SHELL", "TERM", "USER", "LANG", "LC_ALL", "TMPDIR")


def minimal_environment() -> dict[str, str]:
    """The variables a server inherits: enough to find programs and a home, no keys."""
    return {name: os.environ[name] for name in _INHERITED if name in os.environ}


def result_content(server: str, tool: str, result: Any) -> Any:
    """The content of a `CallToolResult`: structured content, else text; `isError` raises."""
    is_error = _field(result, "is_error", "isError")
    texts = [block.text for block in result.content if getattr(block, "type", None) == "text"]
    if is_error:
        detail = " ".join(texts) or "no details"
        raise ToolError(f"MCP tool '{server}/{tool}' reported an error: {detail}")
    structured = _field(result, "structured_content", "structuredContent")
    if structured is not None:
        return structured
    if len(texts) == len(result.content) and len(texts) == 1:
        return texts[0]
    return [_block(block) for block in result.content]


def _field(obj: Any, modern: str, legacy: str) -> Any:
    """An attribute under its 2.x (snake_case) or 1.x (camelCase) name."""
    return getattr(obj, modern, None) if hasattr(obj, modern) else getattr(obj, legacy, None)


def _block(block: Any) -> Any:
    """A content block as data: text as text, others as their type and MIME type."""
    kind = getattr(block, "type", "unknown")
    if kind == "text":
        return block.text
    return {"type": kind, "mime_type": getattr(block, "mimeType", getattr(block, "mime_type", None))}


def _tool_entry(tool: Any) -> dict[str, Any]:
    schema = _field(tool, "input_schema", "inputSchema") or dict(_OPEN_SCHEMA)
    return {"name": tool.name, "description": tool.description or "", "parameters": schema}


def describe(exc: BaseException) -> str:
    """One line for an exception, looking inside exception groups (anyio task groups wrap
    the real cause, e.g. "Connection closed", in one or two layers)."""
    if isinstance(exc, BaseExceptionGroup):
        return "; ".join(dict.fromkeys(describe(inner) for inner in exc.exceptions))
    return str(exc) or type(exc).__name__
