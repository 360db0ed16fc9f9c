"""`python:` bindings run only where the configuration allows them, get a closed schema from
their function's signature, pass keyword arguments, and report every failure as a result."""

from __future__ import annotations

import textwrap

import pytest

import sys

from agent_factory.runtime.tools import ToolConfig, ToolRunner, binding_tool
from agent_factory.runtime.tools.python_binding import python_binding_tool, signature_schema

MODULE = '''
from __future__ import annotations

import asyncio
import threading
import time
from dataclasses import dataclass

from pydantic import BaseModel

CALLS = []
IMPORTED_ON_THE_LOOP_THREAD = threading.current_thread() is threading.main_thread()


def add(a: int, b: int = 2) -> int:
    """Adds."""
    CALLS.append((a, b))
    return a + b


async def greet(name: str, excited: bool = False) -> str:
    await asyncio.sleep(0)
    return f"hello {name}" + ("!" if excited else "")


class Point(BaseModel):
    x: int
    y: int


def point(x: int, y: int) -> Point:
    return Point(x=x, y=y)


@dataclass
class Pair:
    left: str
    right: str


def pair(left: str, right: str) -> Pair:
    return Pair(left, right)


def fail(reason: str) -> None:
    raise ValueError(reason)


async def nap(seconds: float) -> str:
    await asyncio.sleep(seconds)
    return "rested"


def anything(**options) -> dict:
    return options


def block(seconds: float) -> str:
    time.sleep(seconds)
    return "done"


class Tools:
    @staticmethod
    def shout(text: str) -> str:
        return text.upper()


NOT_CALLABLE = 3
'''


@pytest.fixture
def helpers(tmp_path, monkeypatch):
    """A throwaway importable module `af_binding_helpers` holding the functions above."""
    (tmp_path / "af_binding_helpers.py").write_text(textwrap.dedent(MODULE))
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(__import__("sys").modules, "af_binding_helpers", raising=False)
    return "af_binding_helpers"


@pytest.fixture
def call(tool_ref):
    """Calls a bound function through a runner whose configuration allows `allow`."""

    async def run(target: str, args: dict, timeout_s: float = 5, allow: tuple[str, ...] = ("*",)):
        spec = binding_tool(tool_ref("bound", "python", target=target))
        async with ToolRunner({"bound": spec}, ToolConfig(timeout_s=timeout_s, allow_python=allow)) as runner:
            return await runner.call("bound", args)

    return run


REFUSED = ("python binding '{target}' is not allowed: it runs code with your permissions; "
           "add '{module}' to [tools] allow_python in agent-factory.toml to let it run")


@pytest.mark.anyio
async def test_a_binding_the_configuration_does_not_allow_is_refused_without_importing_it(helpers, call):
    result = await call("os:system", {"command": "echo pwned"}, allow=())
    assert result.error == REFUSED.format(target="os:system", module="os")
    result = await call(f"{helpers}:add", {"a": 1}, allow=())
    assert result.error == REFUSED.format(target=f"{helpers}:add", module=helpers)
    assert helpers not in sys.modules  # refused before any of its code ran


@pytest.mark.anyio
@pytest.mark.parametrize("allow, allowed, refused", [
    (("af_binding_helpers",), ["add", "greet"], []),
    (("af_binding_helpers:add",), ["add"], ["greet"]),
    (("af_binding",), [], ["add"]),  # a module name, not a text prefix
])
async def test_the_allow_list_names_modules_or_exact_targets(helpers, call, allow, allowed, refused):
    args = {"add": {"a": 1}, "greet": {"name": "Ada"}}
    for function in allowed:
        assert (await call(f"{helpers}:{function}", args[function], allow=allow)).ok
    for function in refused:
        result = await call(f"{helpers}:{function}", args[function], allow=allow)
        assert result.error == REFUSED.format(target=f"{helpers}:{function}", module=helpers)


@pytest.mark.anyio
async def test_the_model_may_pass_only_the_parameters_the_function_declares(helpers, call):
    result = await call(f"{helpers}:anything", {"shell": "rm -rf /"})
    assert result.error == "invalid arguments: unknown argument 'shell' (expected: none)"


@pytest.mark.anyio
async def test_sync_functions_get_keyword_arguments(helpers, call):
    result = await call(f"{helpers}:add", {"a": 40})
    assert (result.ok, result.content) == (True, 42)
    assert __import__(helpers).CALLS == [(40, 2)]


@pytest.mark.anyio
async def test_async_functions_are_awaited(helpers, call):
    assert (await call(f"{helpers}:greet", {"name": "Ada", "excited": True})).content == "hello Ada!"


@pytest.mark.anyio
async def test_models_and_dataclasses_come_back_as_data(helpers, call):
    assert (await call(f"{helpers}:point", {"x": 1, "y": 2})).content == {"x": 1, "y": 2}
    assert (await call(f"{helpers}:pair", {"left": "a", "right": "b"})).content == {"left": "a", "right": "b"}


@pytest.mark.anyio
async def test_attribute_paths_reach_methods(helpers, call):
    assert (await call(f"{helpers}:Tools.shout", {"text": "hi"})).content == "HI"


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("target", "args", "error"),
    [
        ("af_no_such_module:run", {}, "cannot import module 'af_no_such_module' for python binding "
         "'af_no_such_module:run': No module named 'af_no_such_module'"),
        ("af_binding_helpers:missing", {}, "module 'af_binding_helpers' has no attribute 'missing' "
         "(python binding 'af_binding_helpers:missing')"),
        ("af_binding_helpers:NOT_CALLABLE", {}, "python binding 'af_binding_helpers:NOT_CALLABLE' is not callable"),
        ("af_binding_helpers:add", {"b": 1}, "invalid arguments: missing required argument 'a'"),
        ("af_binding_helpers:add", {"a": 1, "c": 3}, "invalid arguments: unknown argument 'c' (expected: a, b)"),
        ("af_binding_helpers:add", {"a": "1"}, "invalid arguments: argument 'a' must be an integer, got string"),
        ("af_binding_helpers:fail", {"reason": "no luck"}, "ValueError: no luck"),
    ],
)
async def test_failures_are_results(helpers, call, target, args, error):
    result = await call(target, args)
    assert (result.ok, result.error) == (False, error)


@pytest.mark.anyio
async def test_a_module_that_fails_to_import_is_reported(tmp_path, monkeypatch, call):
    (tmp_path / "af_broken_module.py").write_text("raise RuntimeError('missing config')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    result = await call("af_broken_module:run", {})
    assert result.error == "importing module 'af_broken_module' failed: RuntimeError: missing config"


@pytest.mark.anyio
@pytest.mark.parametrize("function", ["nap", "block"])
async def test_slow_functions_time_out(helpers, call, function):
    result = await call(f"{helpers}:{function}", {"seconds": 1.5}, timeout_s=0.1)
    assert (result.ok, result.error) == (False, "timed out after 0.1 s")
    assert result.latency_s < 1.0  # did not wait for the function


@pytest.mark.parametrize("target", ["no_colon", "pkg.mod:", ":func", "pkg..mod:f", "pkg.mod:f-g", "a b:c"])
def test_malformed_targets_are_refused_when_the_tool_is_built(tool_ref, target):
    with pytest.raises(ValueError) as caught:
        binding_tool(tool_ref("bound", "python", target=target))
    expected = f"tool 'bound': a python binding must look like 'package.module:function', got {target!r}"
    assert str(caught.value) == expected


ADD_SCHEMA = {
    "type": "object",
    "properties": {
        "a": {"type": "integer", "description": "a"},
        "b": {"type": "integer", "description": "b", "default": 2},
    },
    "required": ["a"],
    "additionalProperties": False,
}


@pytest.mark.anyio
async def test_the_schema_is_closed_and_comes_from_the_signature_once_allowed(helpers, tool_ref):
    ref = tool_ref("adder", "python", target=f"{helpers}:add", description="Adds two numbers")
    lazy = python_binding_tool(ref)
    # open until prepared: each call then checks the allow-list first, the signature second
    assert lazy.parameters == {"type": "object", "properties": {}, "required": [], "additionalProperties": True}
    assert (lazy.description, lazy.kind, lazy.binding) == ("Adds two numbers", "python", f"{helpers}:add")
    assert helpers not in sys.modules  # building the tool imports nothing
    async with ToolRunner({"adder": lazy}, ToolConfig()) as refused:
        assert refused.tools["adder"].parameters == lazy.parameters
    assert helpers not in sys.modules  # not allowed: not imported either
    async with ToolRunner({"adder": lazy}, ToolConfig(allow_python=(helpers,))) as allowed:
        assert allowed.tools["adder"].parameters == ADD_SCHEMA
    assert sys.modules[helpers].IMPORTED_ON_THE_LOOP_THREAD is False  # imported in a worker thread
    assert python_binding_tool(ref, inspect_target=True).parameters == ADD_SCHEMA


def test_signature_schema_maps_scalars_and_stays_closed_with_kwargs():
    def search(query: str, limit: int = 5, exact: bool = False, *, tags: list = (), **extra) -> list:
        return []

    assert signature_schema(search) == {
        "type": "object",
        "properties": {
            "query": {"type": "string", "description": "query"},
            "limit": {"type": "integer", "description": "limit", "default": 5},
            "exact": {"type": "boolean", "description": "exact", "default": False},
            "tags": {"type": "array", "description": "tags", "default": ()},
        },
        "required": ["query"],
        "additionalProperties": False,
    }
