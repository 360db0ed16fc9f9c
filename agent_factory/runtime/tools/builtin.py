"""The built-in tools, as a table: name, description, arguments, result, handler.

`builtin_tools()` is what the built-in plugin returns from `af_register_tools`. Building
the table imports none of the modules that implement the tools: `agent-factory check` reads
the table (names, arguments) on every start and never runs a tool, while those modules pull
in asyncio, ssl and the HTTP code. Each handler imports its module on its first call.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

from .model import Handler, ToolSpec
from .schema import arg, object_schema


def _deferred(module: str, name: str) -> Handler:
    """The coroutine `name` of `agent_factory.runtime.tools.<module>`, imported when called."""

    async def handler(args: dict[str, Any], ctx: Any) -> Any:
        return await getattr(import_module(f"{__package__}.{module}"), name)(args, ctx)

    handler.__name__ = handler.__qualname__ = name
    return handler


web_search_tool = _deferred("search", "web_search_tool")
wikipedia_tool = _deferred("wikipedia", "wikipedia_tool")
http_fetch_tool = _deferred("fetch", "http_fetch_tool")
current_time_tool = _deferred("clock", "current_time_tool")
calculator_tool = _deferred("calculator", "calculator_tool")
read_file_tool = _deferred("files", "read_file_tool")
write_file_tool = _deferred("files", "write_file_tool")
list_directory_tool = _deferred("files", "list_directory_tool")


def _builtin(name: str, description: str, properties: dict[str, Any], result: str, handler: Handler) -> ToolSpec:
    return ToolSpec(
        name=name,
        description=description,
        parameters=object_schema(properties),
        result=result,
        kind="builtin",
        handler=handler,
    )


def builtin_tools() -> dict[str, ToolSpec]:
    """Every built-in tool by name, sorted by name."""
    specs = [
        _builtin(
            "web_search",
            "Search the web and return the top results.",
            {
                "query": arg("string", "What to search for."),
                "max_results": arg("integer", "How many results to return.", 5, minimum=1, maximum=20),
            },
            "A list of {title, url, snippet}.",
            web_search_tool,
        ),
        _builtin(
            "wikipedia",
            "Look up a topic on Wikipedia and return the summary of the best matching article.",
            {"query": arg("string", "The topic or article title.")},
            "{title, summary, url, other_matches}.",
            wikipedia_tool,
        ),
        _builtin(
            "http_fetch",
            "Fetch a public web page or API URL (private and internal addresses are refused).",
            {
                "url": arg("string", "The http:// or https:// URL to fetch."),
                "method": arg("string", "GET for the body, HEAD for the status only.", "GET", enum=["GET", "HEAD"]),
            },
            "{url (after redirects), status, content_type, body (text)}.",
            http_fetch_tool,
        ),
        _builtin(
            "current_time",
            "The current date and time in a time zone.",
            {"timezone": arg("string", "An IANA time zone name, e.g. Europe/Paris.", "UTC")},
            "{timezone, datetime (ISO 8601), utc_offset, weekday}.",
            current_time_tool,
        ),
        _builtin(
            "calculator",
            "Evaluate an arithmetic expression: numbers, + - * / // % **, parentheses, pi, e, "
            "abs, max, min, round, sqrt.",
            {"expression": arg("string", "The expression, e.g. (2 + 3) * sqrt(16).")},
            "The numeric value (an integer when exact).",
            calculator_tool,
        ),
        _builtin(
            "read_file",
            "Read a UTF-8 text file from the workspace folder.",
            {"path": arg("string", "Path relative to the workspace.")},
            "The file's text.",
            read_file_tool,
        ),
        _builtin(
            "write_file",
            "Write a UTF-8 text file in the workspace folder (replacing it; folders are created).",
            {
                "path": arg("string", "Path relative to the workspace."),
                "content": arg("string", "The full text to write."),
            },
            "{path, bytes}.",
            write_file_tool,
        ),
        _builtin(
            "list_directory",
            "List a folder of the workspace, sorted by name.",
            {"path": arg("string", "Folder path relative to the workspace.", ".")},
            "{path, entries: [{name, type, size?}], truncated}.",
            list_directory_tool,
        ),
    ]
    return {spec.name: spec for spec in sorted(specs, key=lambda spec: spec.name)}
