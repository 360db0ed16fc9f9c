"""`agent-factory.toml`: model aliases, tiers and the fallback chain the router uses, and the
`[tools]` table.

`load_config(path)` reads the file named, else `./agent-factory.toml`, else the embedded
defaults (`default_config.toml` beside this module, the same text docs/configuration.md shows).
Numbers are read as `Decimal` straight from the TOML text, so prices and limits are exact.
The file may hold tables for other components; only `router`, `models`, `tiers` and `tools` are
read here. A file with only a `[tools]` table keeps the default models.

The configuration is trusted code: it names keys, hosts and processes. So a file picked up
from the working folder without being named is announced on stderr when it starts processes,
lets `python:` bindings run or sends a key to a model host of its own (`announce_local`).
"""

from __future__ import annotations

import difflib
import tomllib
from decimal import Decimal
from pathlib import Path
from typing import Any, get_args

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from agent_factory.compiler.ir import TaskType, Tier

from .config_view import CONFIG_FILENAME, DEFAULT_CONFIG_NAME, announce, default_config_text
from .errors import ConfigError
from .tools.config import HttpConfig, McpServerConfig, ToolConfig, WebSearchConfig, WikipediaConfig

TASK_TYPES: tuple[str, ...] = get_args(TaskType)
TIERS: tuple[str, ...] = get_args(Tier)
_SECTIONS = ("router", "models", "tiers", "tools")
_ROUTER_SECTIONS = ("router", "models", "tiers")


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class AliasConfig(_Frozen):
    """One model alias (`[models.<alias>]`).

    `model` is the litellm model name; `api_base` and the env var `api_key_env` holding the key
    are optional; `input_cost_per_token`/`output_cost_per_token` (dollars, set both or neither)
    override litellm's bundled prices; `tasks` are the task types it serves (default: all);
    `timeout_seconds` overrides the router's; `params` are passed to litellm as they are.
    """

    model: str
    api_base: str | None = None
    api_key_env: str | None = None
    input_cost_per_token: Decimal | None = Field(default=None, ge=0)
    output_cost_per_token: Decimal | None = Field(default=None, ge=0)
    tasks: tuple[TaskType, ...] = TASK_TYPES  # type: ignore[assignment]
    timeout_seconds: float | None = Field(default=None, gt=0)
    params: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _prices_come_in_pairs(self) -> AliasConfig:
        if (self.input_cost_per_token is None) != (self.output_cost_per_token is None):
            raise ValueError("set both input_cost_per_token and output_cost_per_token, or neither")
        return self


class TierConfig(_Frozen):
    """A tier (`[tiers.<free|pro|enterprise>]`): the aliases it allows (`models`), the most one
    request may cost (`max_cost_per_request`) and the run budget used when the spec sets none
    (`max_cost_per_run`, also a ceiling on the spec's). Missing limits mean no limit."""

    models: tuple[str, ...]
    max_cost_per_request: Decimal | None = Field(default=None, ge=0)
    max_cost_per_run: Decimal | None = Field(default=None, ge=0)


class RouterSettings(_Frozen):
    """`[router]`: the `fallback` chain (default: aliases in file order), the `default_tier`,
    `timeout_seconds` per attempt, and the cooldown: after `failures_before_cooldown` consecutive
    failures an alias is tried last for `cooldown_seconds`."""

    fallback: tuple[str, ...] | None = None
    default_tier: Tier = "free"
    timeout_seconds: float = Field(default=30, gt=0)
    cooldown_seconds: float = Field(default=60, ge=0)
    failures_before_cooldown: int = Field(default=1, ge=1)


class RuntimeConfig(_Frozen):
    """The whole runtime configuration: `router` settings, `models` by alias, `tiers` by name,
    the `tools` table, and `source` (the file it came from, or `<embedded defaults>`)."""

    router: RouterSettings = RouterSettings()
    models: dict[str, AliasConfig]
    tiers: dict[Tier, TierConfig] = Field(default_factory=dict)
    tools: ToolConfig = Field(default_factory=ToolConfig)
    source: str = DEFAULT_CONFIG_NAME

    @field_validator("models")
    @classmethod
    def _at_least_one_model(cls, models: dict[str, AliasConfig]) -> dict[str, AliasConfig]:
        if not models:
            raise ValueError("define at least one [models.<alias>] table")
        return models

    @model_validator(mode="after")
    def _aliases_exist(self) -> RuntimeConfig:
        for where, names in self._alias_references():
            for name in names:
                if name not in self.models:
                    raise ValueError(f"{where}: unknown alias '{name}'{_did_you_mean(name, self.models)}")
        return self

    def _alias_references(self) -> list[tuple[str, tuple[str, ...]]]:
        refs = [(f"tiers.{tier}.models", conf.models) for tier, conf in self.tiers.items()]
        return [("router.fallback", self.router.fallback or ()), *refs]

    def alias(self, name: str) -> AliasConfig:
        """The alias called `name` (KeyError if unknown)."""
        return self.models[name]

    def tier(self, name: str) -> TierConfig:
        """The tier called `name`; a tier the file does not define allows every alias, unlimited."""
        return self.tiers.get(name) or TierConfig(models=tuple(self.models))  # type: ignore[call-overload]

    def eligible(
        self, task: str, tier: str, models: tuple[str, ...] | list[str] = (), fallback: tuple[str, ...] | list[str] = ()
    ) -> tuple[str, ...]:
        """The aliases that may serve `task` in `tier`, in chain order: allowed by the tier, in the
        spec's `models` allow-list when it has one, listing `task`. The router's rule, for anyone
        who needs to predict it (cost estimates, code generation)."""
        in_tier = [n for n in self.chain(fallback) if n in self.tier(tier).models]
        return tuple(n for n in in_tier if (not models or n in models) and task in self.models[n].tasks)

    def chain(self, override: tuple[str, ...] | list[str] = ()) -> tuple[str, ...]:
        """The fallback order: `override` (a spec's `fallback:`) or `router.fallback`, then every
        other alias in file order, so each alias has a place."""
        head = tuple(override) or self.router.fallback or ()
        return tuple(dict.fromkeys((*head, *self.models)))


def _did_you_mean(name: str, known: Any) -> str:
    close = difflib.get_close_matches(name, list(known), n=1)
    return f" (did you mean '{close[0]}'?)" if close else ""


# ---------------------------------------------------------------- loading


def load_config(path: str | Path | None = None) -> RuntimeConfig:
    """The runtime configuration from `path`, else `./agent-factory.toml`, else the embedded defaults.

    Raises `ConfigError` (naming the file and the key) when a named file is missing or any
    value is invalid. A file found in the working folder is announced when it holds trusted
    powers (see `announce_local`).
    """
    if path is not None:
        return parse_config(_read(Path(path)), str(path))
    local = Path.cwd() / CONFIG_FILENAME
    if local.is_file():
        config = parse_config(_read(local), CONFIG_FILENAME)
        announce_local(config)
        return config
    return default_config()


def trusted_powers(config: RuntimeConfig) -> list[str]:
    """What in `config` only an operator should decide: processes it starts, code it lets
    `python:` bindings run, keys it sends to hosts other than a provider's own."""
    tools = config.tools
    powers = [f"starts MCP server '{name}' ({server.command})" for name, server in sorted(tools.mcp_servers.items())]
    if tools.allow_python:
        powers.append(f"lets python: bindings run {', '.join(tools.allow_python)}")
    powers += [
        f"sends ${alias.api_key_env} to {alias.api_base} (models.{name})"
        for name, alias in config.models.items()
        if alias.api_key_env and alias.api_base
    ]
    search = tools.web_search
    if search.api_key_env and search.url:
        powers.append(f"sends ${search.api_key_env} to {search.url} (tools.web_search)")
    return powers


def announce_local(config: RuntimeConfig) -> None:
    """Name on stderr a configuration found in the working folder that holds trusted powers:
    a cloned repository can ship one, and running a spec there must not silently start its
    processes or send keys to its hosts. Said once per file and content per process (also
    when `check` read it through `config_view`)."""
    powers = trusted_powers(config)
    if powers:
        announce(str(Path.cwd() / config.source), tuple(powers))


def default_config() -> RuntimeConfig:
    """The embedded defaults (`local` → `perplexity` → `claude`)."""
    return parse_config(default_config_text(), DEFAULT_CONFIG_NAME)


def _read(path: Path) -> str:
    try:
        return path.read_bytes().decode("utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the configuration: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: the configuration is not UTF-8 text (byte {exc.start} is not valid)") from None


def parse_config(text: str, source: str = "<string>") -> RuntimeConfig:
    """Parse and validate TOML `text`; `source` names it in error messages."""
    try:
        data = tomllib.loads(text, parse_float=Decimal)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{source}: invalid TOML: {exc}") from None
    _reject_misspelt_sections(data, source)
    sections = {key: data[key] for key in _SECTIONS if key in data}
    if not any(key in data for key in _ROUTER_SECTIONS):  # only other tables, e.g. [tools]
        defaults = tomllib.loads(default_config_text(), parse_float=Decimal)
        sections.update({key: defaults[key] for key in _ROUTER_SECTIONS if key in defaults})
    try:
        return RuntimeConfig.model_validate({**sections, "source": source})
    except ValidationError as exc:
        raise ConfigError(_validation_message(exc, source)) from None


def _reject_misspelt_sections(data: dict[str, Any], source: str) -> None:
    """Other components may add tables, so unknown ones are kept out, not refused, unless the
    name is so close to ours that it is surely a typo (`[model.local]`)."""
    for key in data:
        if key not in _SECTIONS and difflib.get_close_matches(key, _SECTIONS, n=1, cutoff=0.8):
            raise ConfigError(f"{source}: unknown table [{key}]{_did_you_mean(key, _SECTIONS)}")
    if "models" not in data and any(key in data for key in _ROUTER_SECTIONS):
        raise ConfigError(f"{source}: no [models.<alias>] table; define at least one model alias")


def _known_keys() -> set[str]:
    """Every key a table of the configuration may hold (for "did you mean")."""
    keys: set[str] = set()
    for model in (AliasConfig, TierConfig, RouterSettings, RuntimeConfig, ToolConfig, HttpConfig,
                  WebSearchConfig, WikipediaConfig, McpServerConfig):
        keys.update(model.model_fields)
        keys.update(field.alias for field in model.model_fields.values() if field.alias)
    return keys


def _validation_message(exc: ValidationError, source: str) -> str:
    lines = [f"{source}: invalid configuration"]
    for err in exc.errors(include_url=False):
        where = ".".join(str(part) for part in err["loc"] if part != "[key]")
        if err["type"] == "extra_forbidden":
            key = str(err["loc"][-1]) if err["loc"] else "?"
            lines.append(f"  {where}: unknown key '{key}'{_did_you_mean(key, _known_keys())}")
            continue
        got = f" (got {err['input']!r})" if err["type"] not in ("value_error", "missing") else ""
        message = err["msg"].removeprefix("Value error, ") + got
        lines.append(f"  {where}: {message}" if where else f"  {message}")
    return "\n".join(lines)
