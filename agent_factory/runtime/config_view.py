"""What `check` reads of `agent-factory.toml`: the router's part, validated once per text.

The static cost estimate (the analyse stage's W701, `agent-factory cost`) needs the aliases'
models, tasks and prices, the tiers' models and run budgets, the default tier and the
fallback chain. Validating the file builds the runtime's pydantic models (`config.py`), and
importing pydantic and those models took a fifth of a check's start, for a file that seldom
changes. So `load_view` validates a configuration text with those same models, exactly as
`run` does, and keeps what the estimate reads in the user cache (`agent_factory.usercache`,
`config/`), named by the SHA-256 of the text, the embedded defaults, the agent-factory version
and the `usercache.stamp` of the modules that validate it (`VALIDATORS`: an edit of them in a
development install is a new name); the next check of the same text reads that file and does
not import pydantic.

A text that does not validate is kept as such too: the estimate then uses the defaults, as it
always has (the runtime reports the error). A file found in the working folder that holds
trusted powers is announced on stderr, as `load_config` announces it.

The view has the attribute names of `RuntimeConfig` that the estimate uses (`router.default_tier`,
`models`, `alias`, `tier`, `chain`), so the estimate takes either.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from agent_factory import __version__, usercache

CONFIG_FILENAME = "agent-factory.toml"
DEFAULT_CONFIG_NAME = "<embedded defaults>"
# the code that decides a text's view: the models, their tools' models and enums, the JSON form
VALIDATORS = tuple(Path(__file__).parents[1] / name for name in (
    "runtime/config.py", "runtime/tools/config.py", "compiler/ir.py", "runtime/config_view.py"))


@dataclass(frozen=True)
class AliasView:
    """An alias as the estimate reads it: litellm `model`, the `tasks` it serves, its own prices."""

    model: str
    tasks: tuple[str, ...]
    input_cost_per_token: Decimal | None = None
    output_cost_per_token: Decimal | None = None


@dataclass(frozen=True)
class TierView:
    """A tier's allowed aliases (`models`) and run budget (`max_cost_per_run`, None: no limit)."""

    models: tuple[str, ...]
    max_cost_per_run: Decimal | None = None


@dataclass(frozen=True)
class RouterView:
    """The `[router]` settings the estimate reads."""

    default_tier: str
    fallback: tuple[str, ...] | None = None


@dataclass(frozen=True)
class ConfigView:
    """The router's part of a validated configuration, the `source` it came from and the
    trusted `powers` it holds (see `config.trusted_powers`)."""

    router: RouterView
    models: dict[str, AliasView]
    tiers: dict[str, TierView] = field(default_factory=dict)
    source: str = DEFAULT_CONFIG_NAME
    powers: tuple[str, ...] = ()

    def alias(self, name: str) -> AliasView:
        """The alias called `name` (KeyError if unknown)."""
        return self.models[name]

    def tier(self, name: str) -> TierView:
        """The tier called `name`; one the file does not define allows every alias, unlimited
        (as `RuntimeConfig.tier`)."""
        return self.tiers.get(name) or TierView(models=tuple(self.models))

    def chain(self, override: tuple[str, ...] | list[str] = ()) -> tuple[str, ...]:
        """The fallback order (as `RuntimeConfig.chain`): `override` or `router.fallback`, then
        every other alias in file order."""
        head = tuple(override) or self.router.fallback or ()
        return tuple(dict.fromkeys((*head, *self.models)))


def view_of(config: Any) -> ConfigView:
    """The view of a validated `RuntimeConfig`."""
    from .config import trusted_powers

    return ConfigView(
        router=RouterView(config.router.default_tier, config.router.fallback),
        models={name: AliasView(a.model, tuple(a.tasks), a.input_cost_per_token, a.output_cost_per_token)
                for name, a in config.models.items()},
        tiers={name: TierView(tuple(t.models), t.max_cost_per_run) for name, t in config.tiers.items()},
        source=config.source,
        powers=tuple(trusted_powers(config)),
    )


def load_view() -> ConfigView:
    """The view of the configuration `config.load_config()` reads: `./agent-factory.toml`,
    else the embedded defaults; the defaults' view when the file is unreadable or invalid."""
    local = Path.cwd() / CONFIG_FILENAME
    if local.is_file():
        try:
            text = local.read_bytes().decode("utf-8")
        except (OSError, UnicodeDecodeError):
            text = None
        view = _validated(text, CONFIG_FILENAME) if text is not None else None
        if view is not None:
            if view.powers:
                announce(str(Path.cwd() / view.source), view.powers)
            return view
    view = _validated(default_config_text(), DEFAULT_CONFIG_NAME)
    assert view is not None, "the embedded defaults are valid (tests/runtime/test_config.py)"
    return view


_announced: set[tuple[str, tuple[str, ...]]] = set()


def announce(path: str, powers: tuple[str, ...]) -> None:
    """Name on stderr the configuration at `path`, found in the working folder, and the
    trusted `powers` it holds; once per file and content per process."""
    import sys

    if (path, powers) in _announced:
        return
    _announced.add((path, powers))
    lines = [f"note: using {path} from the working folder; it"] + [f"  - {power}" for power in powers]
    lines.append("  a configuration runs with your permissions: pass --config to choose one explicitly")
    print("\n".join(lines), file=sys.stderr)


def default_config_text() -> str:
    """The text of the embedded default `agent-factory.toml` (`default_config.toml` beside this module)."""
    return (Path(__file__).parent / "default_config.toml").read_text(encoding="utf-8")


def _validated(text: str, source: str) -> ConfigView | None:
    """The view of `text` (None when it does not validate), from the cache when it is there."""
    code = "\0".join(map(usercache.stamp, VALIDATORS))
    key = hashlib.sha256("\0".join((__version__, code, source, text, default_config_text())).encode()).hexdigest()
    stored = usercache.read("config", key)
    if stored is not None:
        try:
            return _from_json(stored)
        except (KeyError, TypeError, ValueError, ArithmeticError):
            pass  # damaged: validate again
    stored = _validate(text, source)
    usercache.write("config", key, stored)
    return _from_json(stored)


def _validate(text: str, source: str) -> dict[str, Any]:
    """The JSON form of the view of `text`, validated with the runtime's models."""
    from .config import parse_config
    from .errors import ConfigError

    try:
        config = parse_config(text, source)
    except ConfigError:
        return {"valid": False}
    return _to_json(view_of(config))


def _to_json(view: ConfigView) -> dict[str, Any]:
    def money(value: Decimal | None) -> str | None:
        return None if value is None else str(value)

    return {
        "valid": True,
        "default_tier": view.router.default_tier,
        "fallback": view.router.fallback,
        "models": {name: [a.model, a.tasks, money(a.input_cost_per_token), money(a.output_cost_per_token)]
                   for name, a in view.models.items()},
        "tiers": {name: [t.models, money(t.max_cost_per_run)] for name, t in view.tiers.items()},
        "source": view.source,
        "powers": view.powers,
    }


def _from_json(data: dict[str, Any]) -> ConfigView | None:
    def money(value: str | None) -> Decimal | None:
        return None if value is None else Decimal(value)

    if not data["valid"]:
        return None
    fallback = data["fallback"]
    return ConfigView(
        router=RouterView(data["default_tier"], None if fallback is None else tuple(fallback)),
        models={name: AliasView(model, tuple(tasks), money(price_in), money(price_out))
                for name, (model, tasks, price_in, price_out) in data["models"].items()},
        tiers={name: TierView(tuple(models), money(budget)) for name, (models, budget) in data["tiers"].items()},
        source=data["source"],
        powers=tuple(data["powers"]),
    )
