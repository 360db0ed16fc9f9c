"""Prices per token and the worst-case estimate of a call, in exact `Decimal` dollars.

An alias's own prices (from `agent-factory.toml`) win; otherwise litellm's bundled cost map
(`litellm.get_model_info`, offline) is used. A model priced nowhere cannot be budgeted, so it
is a configuration error, raised the first time the alias is priced.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from .config import AliasConfig, RuntimeConfig
from .errors import ConfigError
from .llm import litellm

ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class Price:
    """Dollars per input and per output token, and where they came from (`config` or `litellm`)."""

    input: Decimal
    output: Decimal
    source: str

    def cost(self, tokens_in: int, tokens_out: int) -> Decimal:
        """What `tokens_in` prompt and `tokens_out` completion tokens cost."""
        return self.input * tokens_in + self.output * tokens_out


def alias_price(name: str, alias: AliasConfig) -> Price:
    """The price of alias `name`: its own, else litellm's cost map; `ConfigError` when neither has one."""
    if alias.input_cost_per_token is not None and alias.output_cost_per_token is not None:
        return Price(alias.input_cost_per_token, alias.output_cost_per_token, "config")
    try:
        info = litellm().get_model_info(alias.model)
    except Exception:  # litellm raises its own "not mapped" error types; any failure means: no price
        info = {}
    if info.get("input_cost_per_token") is None or info.get("output_cost_per_token") is None:
        raise ConfigError(
            f"models.{name}: litellm has no price for '{alias.model}'; "
            "set input_cost_per_token and output_cost_per_token"
        )
    # repr() of the float is the shortest text that round-trips, so Decimal gets the intended value
    return Price(Decimal(repr(info["input_cost_per_token"])), Decimal(repr(info["output_cost_per_token"])), "litellm")


class PriceBook:
    """Prices of a configuration's aliases, looked up once each."""

    def __init__(self, config: RuntimeConfig) -> None:
        self.config = config
        self._prices: dict[str, Price] = {}

    def price(self, alias: str) -> Price:
        """The price of `alias` (cached)."""
        found = self._prices.get(alias)
        if found is None:
            found = self._prices[alias] = alias_price(alias, self.config.alias(alias))
        return found


def prompt_token_bound(
    messages: Sequence[dict[str, Any]], tools: Sequence[dict[str, Any]] | None = None, response_format: Any = None
) -> int:
    """An upper bound on the prompt tokens of a request: the UTF-8 bytes of its JSON.

    Byte-level tokenizers never make a token from less than one byte, and the JSON's quotes,
    keys and braces outnumber the few special tokens a chat template adds per message, so the
    bound holds for any provider. It over-counts English about fourfold; that margin is what
    lets a budget promise never to be crossed.
    """
    payload: list[Any] = [list(messages)]
    if tools:
        payload.append(list(tools))
    if response_format is not None:
        payload.append(response_format)
    return len(json.dumps(payload, ensure_ascii=False, default=str).encode("utf-8"))


def worst_case_cost(price: Price, prompt_tokens: int, max_tokens: int) -> Decimal:
    """The most a call can cost: the whole prompt bound plus `max_tokens` of completion."""
    return price.cost(prompt_tokens, max_tokens)
