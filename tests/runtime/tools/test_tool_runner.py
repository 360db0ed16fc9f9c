"""ToolSpec.invoke and ToolRunner: validation, timeouts, errors as results, and the call record."""

from __future__ import annotations

import asyncio

import pytest

from agent_factory.runtime.tools import (
    ToolCall,
    ToolConfig,
    ToolContext,
    ToolError,
    ToolResult,
    ToolRunner,
    ToolSpec,
    call_tool,
)
from agent_factory.runtime.tools.schema import arg, object_schema

pytestmark = pytest.mark.anyio


def tool(name: str, handler, **properties) -> ToolSpec:
    return ToolSpec(name=name, description=f"The {name} tool.", parameters=object_schema(properties), handler=handler)


async def echo(args, ctx):
    return args


async def sleepy(args, ctx):
    await asyncio.sleep(args["seconds"])
    return "awake"


async def buggy(args, ctx):
    return {}["missing"]


async def refusing(args, ctx):
    raise ToolError("not today")


async def raises_timeout(args, ctx):
    raise TimeoutError("upstream gave up")


TOOLS = {
    "echo": tool(
        "echo",
        echo,
        text=arg("string", "Text."),
        times=arg("integer", "Repeat.", 1, minimum=1, maximum=3),
        mode=arg("string", "Mode.", "plain", enum=["plain", "loud"]),
        ratio=arg("number", "Ratio.", 0.5),
        flag=arg("boolean", "Flag.", False),
    ),
    "sleepy": tool("sleepy", sleepy, seconds=arg("number", "How long.")),
    "buggy": tool("buggy", buggy),
    "refusing": tool("refusing", refusing),
    "raises_timeout": tool("raises_timeout", raises_timeout),
}


async def test_arguments_are_validated_and_defaults_filled():
    result = await TOOLS["echo"].invoke({"text": "hi", "times": 2.0}, ToolContext())
    assert result.content == {"text": "hi", "times": 2, "mode": "plain", "ratio": 0.5, "flag": False}


@pytest.mark.parametrize(
    ("args", "error"),
    [
        ({}, "missing required argument 'text'"),
        ({"text": 3}, "argument 'text' must be a string, got integer"),
        ({"text": "a", "times": "2"}, "argument 'times' must be an integer, got string"),
        ({"text": "a", "times": True}, "argument 'times' must be an integer, got boolean"),
        ({"text": "a", "times": 1.5}, "argument 'times' must be an integer, got number"),
        ({"text": "a", "times": 4}, "argument 'times' must be at most 3, got 4"),
        ({"text": "a", "mode": "quiet"}, "argument 'mode' must be one of plain, loud, got 'quiet'"),
        ({"text": "a", "ratio": None}, "argument 'ratio' must be a number, got null"),
        ({"text": "a", "flag": "yes"}, "argument 'flag' must be a boolean, got string"),
        ({"txt": "a"}, "missing required argument 'text'; unknown argument 'txt'; did you mean 'text'? "
         "(expected: text, times, mode, ratio, flag)"),
        ({"text": "a", "zzz": 1}, "unknown argument 'zzz' (expected: text, times, mode, ratio, flag)"),
    ],
)
async def test_bad_arguments_are_one_failed_result_listing_every_problem(args, error):
    result = await TOOLS["echo"].invoke(args, ToolContext())
    assert (result.ok, result.error) == (False, f"invalid arguments: {error}")


async def test_timeouts_come_from_the_config_or_the_call():
    slow = ToolContext(ToolConfig(timeout_s=0.05))
    assert (await TOOLS["sleepy"].invoke({"seconds": 1}, slow)).error == "timed out after 0.05 s"
    assert (await TOOLS["sleepy"].invoke({"seconds": 1}, ToolContext(), timeout_s=0.1)).error == "timed out after 0.1 s"
    assert (await TOOLS["sleepy"].invoke({"seconds": 0}, slow)).content == "awake"


async def test_the_default_timeout_is_twenty_seconds():
    assert ToolConfig().timeout_s == 20.0


async def test_tool_errors_and_bugs_are_results(caplog):
    assert (await TOOLS["refusing"].invoke({}, ToolContext())).error == "not today"
    bug = await TOOLS["buggy"].invoke({}, ToolContext())
    assert bug.error == "internal error in tool 'buggy': KeyError: 'missing' (this is a bug; please report it)"
    assert "tool buggy failed unexpectedly" in caplog.text
    assert caplog.records[-1].exc_info[1].args == ("missing",)  # logged with its traceback
    inner = await TOOLS["raises_timeout"].invoke({}, ToolContext())
    assert inner.error == (
        "internal error in tool 'raises_timeout': TimeoutError: upstream gave up (this is a bug; please report it)"
    )


async def test_plain_function_handlers_are_accepted():
    spec = ToolSpec(name="plain", description="", parameters=object_schema({}), handler=lambda args, ctx: "sync")
    assert (await spec.invoke({})).content == "sync"


async def test_programmer_errors_raise():
    with pytest.raises(TypeError) as caught:
        await TOOLS["echo"].invoke(["text"], ToolContext())
    assert str(caught.value) == "tool arguments must be a mapping, got list"
    with pytest.raises(RuntimeError) as caught:
        await ToolSpec(name="empty", description="", parameters=object_schema({})).invoke({})
    assert str(caught.value) == "tool 'empty' has no handler"


async def test_cancellation_is_not_swallowed():
    task = asyncio.create_task(TOOLS["sleepy"].invoke({"seconds": 5}, ToolContext()))
    await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


async def test_the_runner_records_every_call_in_order():
    async with ToolRunner(TOOLS) as runner:
        await runner.call("echo", {"text": "a"})
        await runner.call("refusing")
        await runner.call("ecko", {"text": "b"})
    assert runner.tools_called == ["echo", "refusing", "ecko"]
    assert [(c.name, c.args, c.ok, c.error) for c in runner.calls] == [
        ("echo", {"text": "a"}, True, None),
        ("refusing", {}, False, "not today"),
        ("ecko", {"text": "b"}, False, "unknown tool 'ecko'; did you mean 'echo'? "
         "(available: buggy, echo, raises_timeout, refusing, sleepy)"),
    ]
    assert all(c.latency_s >= 0 for c in runner.calls)


async def test_the_runner_defaults_to_the_builtins():
    runner = ToolRunner()
    assert sorted(runner.tools) == [
        "calculator", "current_time", "http_fetch", "list_directory", "read_file", "web_search", "wikipedia",
        "write_file",
    ]
    assert runner.function_schemas()[0] == {
        "type": "function",
        "function": {
            "name": "calculator",
            "description": "Evaluate an arithmetic expression: numbers, + - * / // % **, parentheses, pi, e, "
            "abs, max, min, round, sqrt.",
            "parameters": {
                "type": "object",
                "properties": {
                    "expression": {"type": "string", "description": "The expression, e.g. (2 + 3) * sqrt(16)."}
                },
                "required": ["expression"],
                "additionalProperties": False,
            },
        },
    }


async def test_call_tool_is_a_one_shot_runner_that_can_record():
    record: list[ToolCall] = []
    result = await call_tool("calculator", {"expression": "6 * 7"}, record=record)
    assert result.content == 42
    assert [(c.name, c.args, c.ok) for c in record] == [("calculator", {"expression": "6 * 7"}, True)]


def test_results_render_as_text_for_the_model():
    assert ToolResult(ok=True, content="plain").text() == "plain"
    assert ToolResult(ok=True, content={"a": [1, "é"]}).text() == '{"a": [1, "é"]}'
    assert ToolResult(ok=False, error="no luck").text() == "error: no luck"
