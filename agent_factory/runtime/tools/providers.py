"""Choosing the provider of a pluggable tool (`web_search`, `wikipedia`)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from .model import ToolError


def pick_provider(ctx: Any, tool: str, registry: Mapping[str, Callable[[Any], Any]], settings: Any, label: str) -> Any:
    """An override object in `ctx.providers[tool]`, else the factory of `registry` named by
    `settings.provider`, called with `settings`; `label` names the tool in the error."""
    override = ctx.providers.get(tool)
    if override is not None:
        return override
    factory = registry.get(settings.provider)
    if factory is None:
        available = ", ".join(sorted(registry))
        raise ToolError(f"unknown {label} provider '{settings.provider}'; available: {available}")
    return factory(settings)
