"""Argument guards see the arguments a tool will receive and compare them by value: a text that
spells a number is that number (`args.number != 13` stops "13" and "013"), on declared and on
open-schema arguments (`http:` placeholders, `mcp:` tools), before anything leaves the machine."""

from __future__ import annotations

import sys
from decimal import Decimal
from pathlib import Path

import pytest

from agent_factory.runtime.evaluate import EvaluationError, evaluate, expression
from agent_factory.runtime.executor import run_spec
from agent_factory.runtime.tools import HttpConfig, McpServerConfig, ToolConfig
from agent_factory.runtime.tools.guarded import guard_view, typed

ITEM = """
# Agent: Item Reader

## Purpose
Reads one item.

## Inputs
- item: str — the item id

## Outputs
- body: str — the item

## Invariants
1. **SEC-013 Not item 13:** MUST NOT read item 13. `check: args.number != 13`

## Tools
- get_item — one item (http: GET {server}/text/{{number}})

## Workflow
### fetch
- tool: get_item
- args: number = item
- outputs: body

### Flow
- START → fetch
- fetch → END
"""

ADD = """
# Agent: Adder

## Purpose
Adds one.

## Inputs
- a: str — a number

## Outputs
- total: str — the sum

## Invariants
1. **ADD-013 Never 13:** MUST NOT add to 13. `check: args.a != 13`

## Tools
- adder — add two integers (mcp: demo/add)

## Workflow
### sum
- tool: adder
- args: a = a, b = 1
- outputs: total

### Flow
- START → sum
- sum → END
"""

SERVER = Path(__file__).with_name("mcp_test_server.py")


def _spec(tmp_path, text: str) -> Path:
    path = tmp_path / "spec.md"
    path.write_text(text.strip() + "\n", encoding="utf-8")
    return path


def _violation(spec: Path, line: int, ident: str, title: str, tool: str, step: str) -> str:
    return f"invariant {ident} violated ({spec}:{line}): {title} (before calling tool '{tool}' in step '{step}')"


@pytest.mark.parametrize("item", ["13", "013", " 13 ", "13.0", "+13", "1.3e1"])
def test_a_text_spelling_the_forbidden_number_is_stopped_before_the_request(tmp_path, local_server, item):
    spec = _spec(tmp_path, ITEM.format(server=local_server.url))
    tools = ToolConfig(http=HttpConfig(allow_hosts=("127.0.0.1",)))
    result = run_spec(spec, {"item": item}, tool_config=tools)
    assert result.error == _violation(spec, 13, "SEC-013", "Not item 13", "get_item", "fetch")
    assert local_server.requests == []


def test_another_number_goes_through(tmp_path, local_server):
    spec = _spec(tmp_path, ITEM.format(server=local_server.url))
    tools = ToolConfig(http=HttpConfig(allow_hosts=("127.0.0.1",)))
    result = run_spec(spec, {"item": "014"}, tool_config=tools)
    assert result.ok, result.error
    assert [seen.path for seen in local_server.requests] == ["/text/014"]


@pytest.mark.parametrize("a", ["13", "013"])
def test_an_open_schema_mcp_tool_is_guarded_too(tmp_path, a):
    # the server would read "013" as the integer 13: the guard must not see two different values
    spec = _spec(tmp_path, ADD)
    demo = McpServerConfig(command=sys.executable, args=(str(SERVER),))
    tools = ToolConfig(timeout_s=30, mcp_servers={"demo": demo}, allow_mcp=("demo",))
    result = run_spec(spec, {"a": a}, tool_config=tools)
    assert result.error == _violation(spec, 13, "ADD-013", "Never 13", "adder", "sum")
    assert result.tools_called == []


def test_the_guard_sees_defaults_and_validated_values(tool_ref):
    from agent_factory.runtime.tools import builtin_tools

    view = guard_view(builtin_tools()["web_search"], {"query": "tea", "max_results": 5.0})
    assert view == {"query": "tea", "max_results": 5}
    assert guard_view(builtin_tools()["web_search"], {"query": "tea"})["max_results"] == 5  # the default


@pytest.mark.parametrize(("check", "args", "holds"), [
    ("args.n == 13", {"n": "013"}, True),
    ("args.n != 13", {"n": " 13.0 "}, False),
    ("args.n == 13", {"n": "thirteen"}, False),
    ("args.n == \"013\"", {"n": 13}, True),
    ("args.n < 100", {"n": "250"}, False),
    ("args.n >= 1.5", {"n": "2"}, True),
    ("args.n in [12, 13]", {"n": "013"}, True),
    ("args.flag == true", {"flag": "true"}, True),
    ("args.s contains \"13\"", {"s": "x13y"}, True),
    ("len(args.s) == 3", {"s": "013"}, True),
    ("args.n + 1 == 14", {"n": 13}, True),
    ("args.tags contains \"a\"", {"tags": ["a", "b"]}, True),
])
def test_arguments_compare_by_what_they_denote(check, args, holds):
    assert evaluate(expression(check), {"args": guard_view(None, args)}) is holds


def test_ordering_a_text_that_spells_no_number_is_an_error_so_a_must_fails():
    with pytest.raises(EvaluationError) as caught:
        evaluate(expression("args.n <= 100"), {"args": guard_view(None, {"n": "lots"})})
    assert str(caught.value) == "cannot order the argument value 'lots' and Decimal('100'): not both numbers"


def test_wrapped_values_stay_plain_data():
    import json

    value = typed({"n": 13, "s": "x", "f": 1.5, "b": True, "l": [1, "2"], "none": None})
    assert json.dumps(value) == '{"n": 13, "s": "x", "f": 1.5, "b": true, "l": [1, "2"], "none": null}'
    assert typed("013") == Decimal(13) and hash(typed("a")) == hash("a")


def test_a_guard_on_an_undeclared_argument_judges_only_calls_that_pass_it(tool_ref):
    from agent_factory.runtime.tools import binding_tool
    from agent_factory.runtime.tools.guarded import applicable

    open_tool = binding_tool(tool_ref("notes", "mcp", target="files/write"))
    guard = {"check": "not (args.body contains \"secret\")", "file": "spec.md", "line": 3}
    assert open_tool.accepts("body") and open_tool.accepts("anything")
    assert applicable(open_tool, {"body": "x"}, [guard]) == [guard]
    assert applicable(open_tool, {"path": "a.txt"}, []) == []
    assert applicable(open_tool, {"path": "a.txt"}, [guard]) == []  # nothing to judge in this call
