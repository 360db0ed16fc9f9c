"""docs/tools.md stays true: every built-in is documented, its config examples load, and the
calculator errors and the trust and workspace refusals it quotes are the real ones."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

from agent_factory.runtime.tools import ToolConfig, builtin_tools
from agent_factory.runtime.tools.calculator import CalculatorError, evaluate

DOC = Path(__file__).resolve().parents[3] / "docs" / "tools.md"


def test_every_builtin_has_a_section_naming_each_argument():
    text = DOC.read_text(encoding="utf-8")
    for name, spec in builtin_tools().items():
        heading = re.search(rf"^### .*\b{name}\b.*$", text, re.MULTILINE)
        assert heading, f"docs/tools.md has no section for {name}"
        section = text[heading.end():].split("\n### ", 1)[0]
        for argument in spec.parameters["properties"]:
            assert f"`{argument}`" in section, f"{name}: argument {argument} is not documented"


def test_every_toml_example_is_a_valid_tools_config():
    blocks = re.findall(r"```toml\n(.*?)```", DOC.read_text(encoding="utf-8"), re.DOTALL)
    tables = [tomllib.loads(block)["tools"] for block in blocks]
    assert len(tables) == 5
    for table in tables:
        ToolConfig.model_validate(table)


def _calculator_rows() -> list[tuple[str, str]]:
    text = DOC.read_text(encoding="utf-8")
    table = text.split("Everything else is refused by name", 1)[1].split("\n\n", 2)[1]
    return re.findall(r"^\| `(.+?)` \| `(.+?)` \|$", table, re.MULTILINE)


@pytest.mark.parametrize(("expression", "message"), _calculator_rows())
def test_the_documented_calculator_errors_are_real(expression, message):
    with pytest.raises(CalculatorError) as caught:
        evaluate(expression)
    assert str(caught.value) == message


def _quoted(message: str) -> bool:
    """Whether docs/tools.md quotes `message` (line breaks in the page count as spaces)."""
    return " ".join(message.split()) in " ".join(DOC.read_text(encoding="utf-8").split())


@pytest.mark.anyio
async def test_the_quoted_trust_and_workspace_refusals_are_the_real_messages(tmp_path, tool_ref):
    import os

    from agent_factory.runtime.tools import McpServerConfig, ToolContext, ToolRunner, binding_tool

    python = binding_tool(tool_ref("score", "python", target="ideas.scoring:score"))
    async with ToolRunner({"score": python}, ToolConfig()) as runner:
        refused_python = (await runner.call("score", {"idea": "x"})).error
    mcp = binding_tool(tool_ref("read_docs", "mcp", target="files/read_text_file"))
    config = ToolConfig(mcp_servers={"files": McpServerConfig(command="npx")})
    refused_mcp = (await mcp.invoke({"path": "a"}, ToolContext(config))).error
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "secret.txt").write_text("s")
    workspace = tmp_path / "ws"
    workspace.mkdir()
    os.symlink(tmp_path / "outside", workspace / "door")
    os.link(tmp_path / "outside" / "secret.txt", workspace / "linked.txt")
    files = ToolContext(ToolConfig(workspace=workspace))
    symlink = (await builtin_tools()["read_file"].invoke({"path": "door/secret.txt"}, files)).error
    hard_link = (await builtin_tools()["read_file"].invoke({"path": "linked.txt"}, files)).error
    http = binding_tool(tool_ref("get", "http", target="https://api.example.com/api/{id}/info"))
    dots = (await http.invoke({"id": ".."}, ToolContext())).error
    for message in (refused_python, refused_mcp, symlink, hard_link, dots):
        assert _quoted(message), f"docs/tools.md does not quote: {message}"
