"""Tool configuration: the `[tools]` table of `agent-factory.toml`, as typed models.

```toml
[tools]
timeout_s = 20
workspace = "./workspace"

[tools.http]
allow_hosts = ["127.0.0.1", "10.1.0.0/16", "intranet.example"]

[tools.web_search]
provider = "http_json"
url = "https://search.example/api?q={query}&n={max_results}"

[tools.mcp_servers.files]
command = "npx"
args = ["-y", "@modelcontextprotocol/server-filesystem", "/data"]
```

`python:` and `mcp:` bindings run code with the process's permissions, so a spec may use them
only where this table allows: `allow_python` lists modules (with their submodules) or exact
`module:function` targets, `allow_mcp` lists servers of `mcp_servers`; `"*"` allows all.
Both are empty by default, and the hosted API allows none.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

MIB = 1024 * 1024


class _Config(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class HttpConfig(_Config):
    """Outbound HTTP: `allow_hosts` (host names, IP addresses or CIDR networks that may be
    reached even though they are private, loopback, link-local…), `max_response_bytes`,
    `max_redirects`, `user_agent`."""

    allow_hosts: tuple[str, ...] = ()
    max_response_bytes: int = Field(default=MIB, gt=0)
    max_redirects: int = Field(default=5, ge=0)
    # Wikimedia asks API clients to identify themselves with contact details: set your own.
    user_agent: str = "agent-factory/0.1 (tool runtime)"

    @field_validator("allow_hosts")
    @classmethod
    def _parse_allow_hosts(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        from .netpolicy import AllowList

        AllowList.parse(value)  # raises ValueError naming the bad entry
        return value


class WebSearchConfig(_Config):
    """`web_search` provider: `provider` name (`none`, `http_json`, or a registered plugin);
    for `http_json`: `url` template with `{query}` and `{max_results}`, the JSON key of the
    result list, and an optional API key read from the environment variable `api_key_env`."""

    provider: str = "none"
    url: str | None = None
    results_key: str = "results"
    api_key_env: str | None = None
    api_key_header: str = "Authorization"
    api_key_prefix: str = "Bearer "


class WikipediaConfig(_Config):
    """`wikipedia` provider: `provider` name (`mediawiki` or a registered plugin), `language`
    (the subdomain of wikipedia.org) or a `base_url` of another MediaWiki site."""

    provider: str = "mediawiki"
    language: str = "en"
    base_url: str | None = None

    @field_validator("language")
    @classmethod
    def _plain_language(cls, value: str) -> str:
        # The language becomes part of a host name; nothing but a language code may go there.
        if not re.fullmatch(r"[a-z]{2,3}(-[a-z0-9]+)*", value):
            raise ValueError(f"language must be a Wikipedia language code such as 'en', got {value!r}")
        return value

    def site(self) -> str:
        """The MediaWiki site root, without a trailing slash."""
        return (self.base_url or f"https://{self.language}.wikipedia.org").rstrip("/")


class McpServerConfig(_Config):
    """An MCP server started over stdio: `command`, `args`, extra `env` (merged over the SDK's
    small safe default environment), working directory `cwd`."""

    type: Literal["stdio"] = "stdio"
    command: str
    args: tuple[str, ...] = ()
    env: dict[str, str] = Field(default_factory=dict)
    cwd: str | None = None


class ToolConfig(_Config):
    """All tool settings. `timeout_s` bounds every call; `workspace` is the only folder the
    file tools may touch (no workspace: file tools refuse); file size limits; the `http`
    policy; search providers; `mcp_servers` by name; `allow_python` and `allow_mcp`, what
    code bindings may run (see the module doc)."""

    timeout_s: float = Field(default=20.0, gt=0)
    workspace: Path | None = None
    max_read_bytes: int = Field(default=MIB, gt=0)
    max_write_bytes: int = Field(default=MIB, gt=0)
    max_list_entries: int = Field(default=1000, gt=0)
    http: HttpConfig = Field(default_factory=HttpConfig)
    web_search: WebSearchConfig = Field(default_factory=WebSearchConfig)
    wikipedia: WikipediaConfig = Field(default_factory=WikipediaConfig)
    mcp_servers: dict[str, McpServerConfig] = Field(default_factory=dict)
    allow_python: tuple[str, ...] = ()
    allow_mcp: tuple[str, ...] = ()

    @field_validator("allow_python")
    @classmethod
    def _python_targets(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for entry in value:
            if entry != "*" and not _PYTHON_ENTRY.fullmatch(entry):
                raise ValueError(f"allow_python entries are modules or 'module:function' targets, got {entry!r}")
        return value

    @model_validator(mode="after")
    def _mcp_servers_exist(self) -> ToolConfig:
        unknown = [name for name in self.allow_mcp if name != "*" and name not in self.mcp_servers]
        if unknown:
            configured = ", ".join(sorted(self.mcp_servers)) or "none"
            raise ValueError(f"allow_mcp names servers not in [tools.mcp_servers]: {', '.join(unknown)} "
                             f"(configured: {configured})")
        return self

    def python_allowed(self, target: str) -> bool:
        """Whether a `python:` binding to `target` (`package.module:function`) may run."""
        module = target.partition(":")[0]
        return any(
            entry in ("*", target, module) or module.startswith(entry + ".") for entry in self.allow_python
        )

    def mcp_allowed(self, server: str) -> bool:
        """Whether `mcp:` bindings may call tools of `server`."""
        return "*" in self.allow_mcp or server in self.allow_mcp


_PYTHON_ENTRY = re.compile(r"[A-Za-z_]\w*(\.[A-Za-z_]\w*)*(:[A-Za-z_]\w*(\.[A-Za-z_]\w*)*)?")
_STDIO_KEYS = ("command", "args", "env", "cwd")


def load_mcp_config(path: str | Path) -> dict[str, McpServerConfig]:
    """Read MCP servers from the common JSON format `{"mcpServers": {name: {command, args, env}}}`.

    Keys other clients add (`disabled`, `autoApprove`, …) are ignored; a server without a
    `command` (a URL server) is refused, since only stdio servers are supported. A file that
    cannot be read or is not JSON is a `ValueError` naming it."""
    try:
        data = json.loads(Path(path).read_bytes().decode("utf-8"))
    except OSError as exc:
        raise ValueError(f"{path}: cannot read the MCP configuration: {exc.strerror or exc}") from None
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        detail = "nested too deeply" if isinstance(exc, RecursionError) else str(exc)
        raise ValueError(f"{path}: the MCP configuration is not valid JSON ({detail})") from None
    servers = data.get("mcpServers", {}) if isinstance(data, dict) else {}
    return {name: _stdio_server(name, entry) for name, entry in sorted(servers.items())}


def _stdio_server(name: str, entry: dict) -> McpServerConfig:
    """One `mcpServers` entry as a stdio server config."""
    if not isinstance(entry, dict) or "command" not in entry:
        raise ValueError(f"MCP server '{name}' has no 'command'; only stdio servers are supported")
    return McpServerConfig.model_validate({key: entry[key] for key in _STDIO_KEYS if key in entry})
