"""docs/tools.md stays true: every built-in is documented, its config examples load, and the
calculator errors it quotes are the real ones."""

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
