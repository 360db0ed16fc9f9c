"""docs/codegen.md stays in step with the commands and the report it documents."""

from __future__ import annotations

import json
import re

import pytest
from conftest import REPO

from agent_factory.cli.codegen import codegen
from agent_factory.codegen.report import Report

DOC = (REPO / "docs" / "codegen.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("command", ["run", "verify"])
def test_every_option_of_the_command_is_documented(command):
    options = [opt for param in codegen.commands[command].params for opt in getattr(param, "opts", []) if opt.startswith("--")]
    assert options and [opt for opt in options if f"`{opt}" not in DOC] == []


def test_the_documented_report_has_the_reports_fields():
    example = next(block for block in re.findall(r"```json\n(.*?)```", DOC, re.S) if '"requirements"' in block)
    example = json.loads(example.replace("…", ""))
    assert set(example) == set(Report.model_fields)
