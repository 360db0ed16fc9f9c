"""End to end: a spec whose Tools section binds an MCP tool, run with `run_spec`.

The LLM is the stub server on 127.0.0.1 reached through litellm's real HTTP path (the router is
not patched); the MCP tool is served by a real stdio MCP server (the official SDK) that the test
writes and the run starts through `ToolConfig.mcp_servers`. The stub first asks for the tool,
then answers with the declared outputs; the test checks the tool's output reached the model.
"""

from __future__ import annotations

import json
import sys
import textwrap

import pytest

from agent_factory.runtime.executor import run_spec
from agent_factory.runtime.tools import McpServerConfig, ToolConfig
from agent_factory.testing import StubLLM, reply, scripted

NOTE_TEXT = "Buy oat milk; call Ada about the invoice on Friday."

SPEC = """
# Agent: Note Reader

## Purpose
Reads a stored note and summarises it.

## Inputs
- query: str — which note to summarise

## Outputs
- summary: str — the note in one line
- note_id: str — the note that was read

## Tools
- read_note — read a stored note by its id (mcp: notes/read_note)
"""

# A stdio MCP server with one tool, `read_note`, written with the official SDK (1.x or 2.x).
SERVER = textwrap.dedent(f"""
    try:
        from mcp.server.mcpserver import MCPServer as Server  # mcp 2.x
    except ImportError:
        from mcp.server.fastmcp import FastMCP as Server  # mcp 1.x

    server = Server("notes")
    NOTES = {{"n-42": {NOTE_TEXT!r}}}


    @server.tool()
    def read_note(note_id: str):
        \"\"\"The text of a stored note.\"\"\"
        return NOTES.get(note_id, "no such note: " + note_id)


    if __name__ == "__main__":
        server.run("stdio")
""")


@pytest.fixture
def notes_server(tmp_path):
    path = tmp_path / "notes_server.py"
    path.write_text(SERVER, encoding="utf-8")
    return McpServerConfig(command=sys.executable, args=(str(path),))


@pytest.fixture
def stub():
    answer = json.dumps({"summary": "Oat milk and a call to Ada.", "note_id": "n-42"})
    script = scripted([
        reply(None, tool_calls=[{"name": "read_note", "arguments": {"note_id": "n-42"}, "id": "call_note"}]),
        reply(answer),
    ])
    with StubLLM(script) as server:
        yield server


@pytest.fixture
def config(stub, make_config, alias_table, litellm):
    return make_config("[router]\ncooldown_seconds = 0\n",
                       alias_table("fast", stub, price_in="0.000001", price_out="0.000002"))


def test_an_mcp_bound_tool_is_called_and_its_result_reaches_the_model(tmp_path, stub, config, notes_server):
    spec = tmp_path / "note_reader.md"
    spec.write_text(SPEC.strip() + "\n", encoding="utf-8")
    tools = ToolConfig(timeout_s=30, mcp_servers={"notes": notes_server}, allow_mcp=("notes",))

    result = run_spec(spec, "summarise note n-42", config=config, tool_config=tools)

    assert result.ok, result.error
    assert result.outputs == {"summary": "Oat milk and a call to Ada.", "note_id": "n-42"}
    assert result.tools_called == ["read_note"]

    first, second = stub.requests
    offered = [t["function"]["name"] for t in first.get("tools", [])]
    assert offered == ["read_note"]
    assert first["messages"][-1]["role"] == "user"
    assert "n-42" in first["messages"][-1]["content"]

    asked, answered = second["messages"][-2:]
    assert asked["role"] == "assistant"
    assert [(c["function"]["name"], json.loads(c["function"]["arguments"])) for c in asked["tool_calls"]] == [
        ("read_note", {"note_id": "n-42"})
    ]
    assert answered["role"] == "tool"
    assert answered["tool_call_id"] == asked["tool_calls"][0]["id"] == "call_note"
    assert NOTE_TEXT in answered["content"]

    assert [a.outcome for a in result.ledger] == ["ok", "ok"]
    assert result.steps == ["agent"]


def test_a_server_the_configuration_does_not_allow_is_refused_and_the_model_is_told(
        tmp_path, stub, config, notes_server):
    spec = tmp_path / "note_reader.md"
    spec.write_text(SPEC.strip() + "\n", encoding="utf-8")
    tools = ToolConfig(timeout_s=30, mcp_servers={"notes": notes_server})  # declared, not allowed

    result = run_spec(spec, "summarise note n-42", config=config, tool_config=tools)

    answered = stub.requests[1]["messages"][-1]
    assert answered["role"] == "tool"
    assert answered["content"] == (
        "error: MCP server 'notes' is not allowed for mcp: bindings: its tools run with your permissions; "
        "add 'notes' to [tools] allow_mcp in agent-factory.toml to let specs call it"
    )
    assert result.tools_called == []  # a refused call is not a tool called (invariants see only the calls made)
