"""Tool names of the original project: its specs name tools by the LangChain classes they were
built with (`WikipediaSearchTool`, `DuckDuckGoSearchTool`, `CurrentTimeTool`, …). Each maps to
the built-in tool that does the same job, so such a spec checks and runs; the transform keeps
the built-in name and warns (W218) with the name to write instead.

Keys are the snake-cased class names (`snake_case("DuckDuckGoSearchTool")`).
"""

from __future__ import annotations

LANGCHAIN_TOOLS: dict[str, str] = {
    # search engines -> web_search
    "duck_duck_go_search_tool": "web_search",
    "duck_duck_go_search_run": "web_search",
    "duck_duck_go_search_results": "web_search",
    "duckduckgo_search_tool": "web_search",
    "tavily_search_results": "web_search",
    "tavily_search_tool": "web_search",
    "google_search_tool": "web_search",
    "google_search_run": "web_search",
    "google_serper_run": "web_search",
    "serper_dev_tool": "web_search",
    "brave_search": "web_search",
    "bing_search_run": "web_search",
    "web_search_tool": "web_search",
    "search_tool": "web_search",
    # encyclopedia -> wikipedia
    "wikipedia_search_tool": "wikipedia",
    "wikipedia_query_run": "wikipedia",
    "wikipedia_tool": "wikipedia",
    # clock -> current_time
    "current_time_tool": "current_time",
    "date_time_tool": "current_time",
    "datetime_tool": "current_time",
    "time_tool": "current_time",
    # arithmetic -> calculator
    "calculator_tool": "calculator",
    "llm_math_chain": "calculator",
    "math_tool": "calculator",
    # web pages -> http_fetch
    "requests_get_tool": "http_fetch",
    "scrape_website_tool": "http_fetch",
    "web_browser_tool": "http_fetch",
    "http_fetch_tool": "http_fetch",
    # files -> read_file, write_file, list_directory
    "read_file_tool": "read_file",
    "file_read_tool": "read_file",
    "write_file_tool": "write_file",
    "file_writer_tool": "write_file",
    "list_directory_tool": "list_directory",
    "directory_read_tool": "list_directory",
}


def builtin_for(name: str) -> str | None:
    """The built-in tool an original-project class name (snake-cased) stands for, if any."""
    return LANGCHAIN_TOOLS.get(name)
