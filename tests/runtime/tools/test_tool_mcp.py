"""`mcp:` bindings against a real stdio MCP server (mcp_test_server.py, started by the tests):
only servers the configuration allows, started with a minimal environment."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from pathlib import Path

import pytest

from agent_factory.runtime.tools import (
    McpServerConfig,
    ToolConfig,
    ToolContext,
    ToolRunner,
    binding_tool,
    load_mcp_config,
)

pytestmark = pytest.mark.anyio

SERVER = Path(__file__).with_name("mcp_test_server.py")


def demo_config(**overrides) -> ToolConfig:
    servers = {
        "demo": McpServerConfig(command=sys.executable, args=(str(SERVER),), env={"AF_TEST_VAR": "from-config"}),
        "broken": McpServerConfig(
            command=sys.executable, args=("-c", "import sys; sys.stderr.write('bad token\\n'); sys.exit(3)")
        ),
        "ghost": McpServerConfig(command="/nonexistent/mcp-server"),
    }
    return ToolConfig(mcp_servers=servers, **{"allow_mcp": ("*",), **overrides})


@pytest.fixture
def runner(tool_ref):
    """A ToolRunner over tools bound to the demo server's tools (and to servers that fail)."""
    bindings = {
        "adder": "demo/add",
        "shout": "demo/shout",
        "whoami": "demo/whoami",
        "env": "demo/env",
        "refuse": "demo/refuse",
        "nap": "demo/nap",
        "missing_tool": "demo/nope",
        "elsewhere": "nowhere/tool",
        "broken": "broken/tool",
        "ghost": "ghost/tool",
    }
    tools = {name: binding_tool(tool_ref(name, "mcp", target=target)) for name, target in bindings.items()}
    return ToolRunner(tools, demo_config(timeout_s=10))


async def test_a_tool_call_round_trips(runner):
    async with runner:
        added = await runner.call("adder", {"a": 2, "b": 3})
        shouted = await runner.call("shout", {"text": "hello"})
    assert (added.ok, added.content) == (True, {"result": 5})
    assert (shouted.ok, shouted.content) == (True, "HELLO")
    assert runner.tools_called == ["adder", "shout"]


async def test_one_server_process_serves_every_call_of_a_run(runner):
    async with runner:
        first = await runner.call("whoami")
        results = await asyncio.gather(*(runner.call("adder", {"a": i, "b": 1}) for i in range(5)))
        again = await runner.call("whoami")
    assert [r.content for r in results] == [{"result": i + 1} for i in range(5)]
    assert first.content == again.content
    assert first.content["result"] != os.getpid()


async def test_the_server_is_stopped_when_the_run_ends(runner):
    async with runner:
        pid = (await runner.call("whoami")).content["result"]
    for _ in range(100):  # the SDK closes stdin and waits for the process to exit
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            break
        await asyncio.sleep(0.05)
    else:
        pytest.fail(f"MCP server process {pid} is still running")


async def test_a_server_that_exited_is_started_again_by_the_next_call(runner):
    async with runner:
        first = (await runner.call("whoami")).content["result"]
        os.kill(first, signal.SIGKILL)
        for _ in range(100):
            if not _alive(first):
                break
            await asyncio.sleep(0.05)
        # this call may race the client noticing the exit: if it was already on its way, it fails
        racing = await runner.call("whoami")
        again = await runner.call("whoami")
    if not racing.ok:  # the server's stderr, when it has any, follows an exit during the call
        assert racing.error.split("; its stderr ends with: ")[0] in (
            "MCP server 'demo' failed on tool 'whoami': Connection closed",
            "MCP server 'demo' failed on tool 'whoami': the server exited during the call",
        )
    for result in (racing, again) if racing.ok else (again,):
        assert result.ok, result.error
        assert result.content["result"] not in (first, os.getpid())


def _alive(pid: int) -> bool:
    """Whether process `pid` still runs (a zombie waiting for its parent counts as gone)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


async def test_configured_environment_reaches_the_server(runner):
    async with runner:
        result = await runner.call("env", {"name": "AF_TEST_VAR"})
    assert result.content == {"result": "from-config"}


async def test_the_server_does_not_inherit_the_process_keys(runner, monkeypatch):
    monkeypatch.setenv("AF_TEST_SECRET_KEY", "sk-live-123")
    async with runner:
        secret = await runner.call("env", {"name": "AF_TEST_SECRET_KEY"})
        path = await runner.call("env", {"name": "PATH"})
    assert secret.content == {"result": "<unset>"}
    assert path.content == {"result": os.environ["PATH"]}


async def test_a_server_the_configuration_does_not_allow_is_never_started(tool_ref):
    adder = binding_tool(tool_ref("adder", "mcp", target="demo/add"))
    async with ToolContext(demo_config(allow_mcp=("broken",))) as ctx:
        result = await adder.invoke({"a": 1, "b": 2}, ctx)
        assert ctx._mcp is None  # no server process was started
    assert result.error == (
        "MCP server 'demo' is not allowed for mcp: bindings: its tools run with your permissions; "
        "add 'demo' to [tools] allow_mcp in agent-factory.toml to let specs call it"
    )


def test_allow_mcp_must_name_configured_servers():
    with pytest.raises(ValueError) as caught:
        demo_config(allow_mcp=("demo", "files"))
    assert "allow_mcp names servers not in [tools.mcp_servers]: files (configured: broken, demo, ghost)" in str(
        caught.value)


async def test_arguments_are_checked_against_the_schema_the_server_declares(runner):
    async with runner:
        text = await runner.call("adder", {"a": "013", "b": 1})
        missing = await runner.call("adder", {"a": 1})
        coerced = await runner.call("adder", {"a": 2.0, "b": 3})
    assert text.error == "invalid arguments for MCP tool 'demo/add': argument 'a' must be an integer, got string"
    assert missing.error == "invalid arguments for MCP tool 'demo/add': missing required argument 'b'"
    assert coerced.content == {"result": 5}


async def test_tool_errors_become_failed_results(runner):
    async with runner:
        refused = await runner.call("refuse", {"reason": "quota exceeded"})
        missing = await runner.call("missing_tool", {})
    assert (refused.ok, refused.error) == (False, "MCP tool 'demo/refuse' reported an error: quota exceeded")
    assert missing.error == "MCP tool 'demo/nope' reported an error: Unknown tool: nope"


async def test_an_unknown_server_lists_the_configured_ones(runner):
    async with runner:
        result = await runner.call("elsewhere", {})
    assert result.error == "unknown MCP server 'nowhere'; configured servers: broken, demo, ghost"


async def test_a_server_that_cannot_be_spawned_is_reported(runner):
    async with runner:
        result = await runner.call("ghost", {})
    assert result.error == (
        "MCP server 'ghost' did not start: [Errno 2] No such file or directory: '/nonexistent/mcp-server'"
    )


async def test_a_server_that_dies_at_start_shows_its_stderr(runner):
    async with runner:
        result = await runner.call("broken", {})
    # The middle is the SDK's own wording for a closed connection.
    assert result.error.startswith("MCP server 'broken' did not start: ")
    assert result.error.endswith("; its stderr ends with: bad token")


async def test_a_slow_tool_times_out_and_the_server_keeps_serving(tool_ref):
    nap = binding_tool(tool_ref("nap", "mcp", target="demo/nap"))
    adder = binding_tool(tool_ref("adder", "mcp", target="demo/add"))
    async with ToolContext(demo_config(timeout_s=10)) as ctx:
        await adder.invoke({"a": 0, "b": 0}, ctx)  # start the server outside the short deadline
        slow = await nap.invoke({"seconds": 3}, ctx, timeout_s=0.3)
        after = await adder.invoke({"a": 1, "b": 1}, ctx)
    assert (slow.ok, slow.error) == (False, "timed out after 0.3 s")
    assert after.content == {"result": 2}


async def test_list_tools_gives_the_servers_schemas():
    async with ToolContext(demo_config()) as ctx:
        tools = {tool["name"]: tool for tool in await ctx.mcp().list_tools("demo")}
    assert sorted(tools) == ["add", "env", "nap", "refuse", "shout", "whoami"]
    assert tools["add"]["description"] == "Add two integers."
    assert tools["add"]["parameters"]["required"] == ["a", "b"]
    assert tools["add"]["parameters"]["properties"]["a"]["type"] == "integer"


def test_malformed_targets_are_refused_when_the_tool_is_built(tool_ref):
    with pytest.raises(ValueError) as caught:
        binding_tool(tool_ref("x", "mcp", target="just-a-server"))
    assert str(caught.value) == "tool 'x': an mcp binding must look like 'server/tool', got 'just-a-server'"


def test_servers_load_from_the_common_json_config(tmp_path):
    path = tmp_path / "mcp.json"
    path.write_text(json.dumps({"mcpServers": {
        "files": {"command": "npx", "args": ["-y", "server-filesystem", "/data"], "env": {"A": "1"},
                  "disabled": False},
    }}))
    assert load_mcp_config(path) == {
        "files": McpServerConfig(command="npx", args=("-y", "server-filesystem", "/data"), env={"A": "1"}),
    }
    path.write_text(json.dumps({"mcpServers": {"remote": {"url": "https://mcp.example/"}}}))
    with pytest.raises(ValueError) as caught:
        load_mcp_config(path)
    assert str(caught.value) == "MCP server 'remote' has no 'command'; only stdio servers are supported"


@pytest.mark.parametrize(("content", "problem"), [
    (b"{", "the MCP configuration is not valid JSON (Expecting property name enclosed in double quotes: "
           "line 1 column 2 (char 1))"),
    (b"[" * 100_000, "the MCP configuration is not valid JSON (nested too deeply)"),
    (b"\xff", "the MCP configuration is not valid JSON ('utf-8' codec can't decode byte 0xff in position 0: "
               "invalid start byte)"),
])
def test_a_broken_mcp_json_config_is_named(tmp_path, content, problem):
    path = tmp_path / "mcp.json"
    path.write_bytes(content)
    with pytest.raises(ValueError) as caught:
        load_mcp_config(path)
    assert str(caught.value) == f"{path}: {problem}"
