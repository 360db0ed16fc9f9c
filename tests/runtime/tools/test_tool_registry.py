"""The built-in registry: typed schemas, plain data, cheap to import, resolvable from spec ToolRefs."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from agent_factory.runtime.tools import builtin_tools, resolve_tools


def test_every_builtin_has_a_typed_schema_with_its_required_arguments():
    schemas = {
        name: (
            {key: prop["type"] for key, prop in spec.parameters["properties"].items()},
            spec.parameters["required"],
            {key: prop["default"] for key, prop in spec.parameters["properties"].items() if "default" in prop},
        )
        for name, spec in builtin_tools().items()
    }
    assert schemas == {
        "calculator": ({"expression": "string"}, ["expression"], {}),
        "current_time": ({"timezone": "string"}, [], {"timezone": "UTC"}),
        "http_fetch": ({"url": "string", "method": "string"}, ["url"], {"method": "GET"}),
        "list_directory": ({"path": "string"}, [], {"path": "."}),
        "read_file": ({"path": "string"}, ["path"], {}),
        "web_search": ({"query": "string", "max_results": "integer"}, ["query"], {"max_results": 5}),
        "wikipedia": ({"query": "string"}, ["query"], {}),
        "write_file": ({"path": "string", "content": "string"}, ["path", "content"], {}),
    }


def test_specs_are_plain_data_that_serialise_without_the_handler():
    dumped = builtin_tools()["wikipedia"].model_dump(mode="json")
    assert dumped == {
        "name": "wikipedia",
        "description": "Look up a topic on Wikipedia and return the summary of the best matching article.",
        "parameters": {
            "type": "object",
            "properties": {"query": {"type": "string", "description": "The topic or article title."}},
            "required": ["query"],
            "additionalProperties": False,
        },
        "result": "{title, summary, url, other_matches}.",
        "kind": "builtin",
        "binding": None,
    }
    assert json.loads(json.dumps(dumped)) == dumped
    assert json.loads(builtin_tools()["wikipedia"].model_dump_json()) == dumped


def test_importing_the_registry_loads_no_http_or_mcp_library():
    code = (
        "import sys; from agent_factory.runtime.tools import builtin_tools, resolve_tools, ToolRunner; "
        "builtin_tools(); "
        "print(sorted(m for m in ('httpx', 'httpcore', 'mcp', 'anyio', 'litellm') if m in sys.modules))"
    )
    output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert output.strip() == "[]"


def test_reading_the_builtin_tools_does_not_import_pydantic():
    # `check` reads them on every start; pydantic would cost it a third of its time
    code = ("import sys; from agent_factory.runtime.tools import builtin_tools; builtin_tools(); "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('pydantic', 'pydantic_core')))")
    output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert output == "[]\n"


def test_spec_tools_resolve_to_builtins_and_bindings(tool_ref):
    refs = [
        tool_ref("web_search", description="find sources"),
        tool_ref("get_item", "http", target="https://api.example.com/items/{id}", method="GET"),
        tool_ref("score", "python", target="scoring.rules:score"),
        tool_ref("read_docs", "mcp", target="files/read_text_file"),
    ]
    tools = resolve_tools(refs)
    assert [(name, spec.kind, spec.binding) for name, spec in tools.items()] == [
        ("get_item", "http", "GET https://api.example.com/items/{id}"),
        ("read_docs", "mcp", "files/read_text_file"),
        ("score", "python", "scoring.rules:score"),
        ("web_search", "builtin", None),
    ]


def test_an_unbound_unregistered_tool_is_a_programmer_error(tool_ref):
    with pytest.raises(KeyError) as caught:
        resolve_tools([tool_ref("teleport")])
    assert caught.value.args[0] == "tool 'teleport' is neither bound nor registered"
