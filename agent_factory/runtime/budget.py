"""A run's money: the budget it may not cross and the ledger of every LLM attempt.

`Budget` works by reservation, like the platform's quotas: before a call its worst case is
reserved (refused when spent + reserved + worst case would pass the maximum), after the call the
reservation is settled at the real cost. Parallel branches of a graph therefore cannot together
overrun. A nested run (an `agent:` step, a Team member) gets a `child()` budget: every reservation
is held in the child and in each of its ancestors at once, so the whole run tree shares one purse
and N parallel children cannot spend N times it. `CostLedger` keeps one `Attempt` per try,
successful or not. `compare_costs` prices a
finished run's tokens on the dearest model of its tier, for the CLI's cost table.
"""

from __future__ import annotations

import threading
from dataclasses import asdict, dataclass
from decimal import Decimal
from typing import Any, Literal

from agent_factory.compiler.ir import ModelConfig
from agent_factory.plugins.cost import money

from .config import RuntimeConfig
from .errors import BudgetExceeded, ConfigError
from .pricing import ZERO, PriceBook

Outcome = Literal["ok", "replayed", "error", "timeout", "refused", "unavailable", "cancelled", "rejected"]
SERVED: frozenset[str] = frozenset({"ok", "replayed"})


@dataclass(frozen=True, slots=True)
class Attempt:
    """One try of one alias for one step.

    `outcome`: `ok` (answered), `replayed` (served from a cassette), `error`/`timeout` (the provider
    failed), `refused` (over budget, never sent), `unavailable` (its API key is not set, never sent),
    `cancelled` (stopped in flight, e.g. a failing sibling branch; charged its worst case, since the
    provider may bill it), `rejected` (the reported usage was impossible; charged its worst case).
    `tokens_in`/`tokens_out` are the provider's usage, `cost` the real cost, `estimate` the worst
    case reserved before the call, `latency_s` wall time, `error` the failure's message.
    `overrun` flags an answer whose usage went past what was reserved (the run is stopped).
    """

    step: str
    task: str
    alias: str
    model: str
    outcome: Outcome
    tokens_in: int = 0
    tokens_out: int = 0
    cost: Decimal = ZERO
    estimate: Decimal = ZERO
    latency_s: float = 0.0
    error: str = ""
    overrun: bool = False

    def as_json(self) -> dict[str, Any]:
        """A JSON-ready dict (money as strings with six decimals, never floats)."""
        data = asdict(self)
        data["cost"], data["estimate"] = money(self.cost), money(self.estimate)
        return data


class CostLedger:
    """Every attempt of a run, in order (safe to append from parallel branches)."""

    def __init__(self) -> None:
        self._attempts: list[Attempt] = []
        self._lock = threading.Lock()

    def record(self, attempt: Attempt) -> None:
        """Append one attempt."""
        with self._lock:
            self._attempts.append(attempt)

    @property
    def attempts(self) -> tuple[Attempt, ...]:
        """All attempts so far."""
        with self._lock:
            return tuple(self._attempts)

    @property
    def total_cost(self) -> Decimal:
        """The run's real cost so far."""
        return sum((a.cost for a in self.attempts), ZERO)

    def as_json(self) -> list[dict[str, Any]]:
        """The attempts as JSON-ready dicts."""
        return [a.as_json() for a in self.attempts]


class Reservation:
    """Money held for one call in flight; `settle(actual)` exactly once when it ends."""

    __slots__ = ("_budget", "estimate", "_open")

    def __init__(self, budget: Budget, estimate: Decimal) -> None:
        self._budget, self.estimate, self._open = budget, estimate, True

    def settle(self, actual: Decimal) -> None:
        """Release the hold and charge `actual` (zero for a failed call) to the budget and its ancestors."""
        if self._open:
            self._open = False
            self._budget._settle(self.estimate, actual)


class Budget:
    """The run's spending limit (`maximum`, None for unlimited), what is `spent` and what is `reserved`.

    A budget made with `child()` is a nested run's: its own limit applies, and every reservation
    and charge is also held in and charged to its `parent` (and theirs), under one lock for the
    whole tree, so a child can never spend more than any ancestor has left.
    """

    def __init__(self, maximum: Decimal | None = None, *, parent: Budget | None = None) -> None:
        self.maximum = maximum
        self.parent = parent
        self.spent = ZERO
        self.reserved = ZERO
        self._lock: threading.Lock = parent._lock if parent is not None else threading.Lock()

    @classmethod
    def for_run(cls, model: ModelConfig | None, config: RuntimeConfig, tier: str | None = None) -> Budget:
        """The budget of a run of a spec with Model section `model`: the spec's `max_cost_per_run`,
        capped by the tier's (either alone when the other is unset)."""
        tier_name = tier or (model.tier if model else None) or config.router.default_tier
        limits = [model.max_cost_per_run if model else None, config.tier(tier_name).max_cost_per_run]
        set_limits = [limit for limit in limits if limit is not None]
        return cls(min(set_limits) if set_limits else None)

    def child(self, maximum: Decimal | None) -> Budget:
        """The budget of a nested run with its own limit `maximum` (None: only the ancestors' limits)."""
        return Budget(maximum, parent=self)

    def _lineage(self) -> list[Budget]:
        chain, budget = [], self
        while budget is not None:
            chain.append(budget)
            budget = budget.parent
        return chain

    @property
    def remaining(self) -> Decimal | None:
        """What may still be reserved here: the least any budget of the lineage has left (None when unlimited)."""
        with self._lock:
            left = [b.maximum - b.spent - b.reserved for b in self._lineage() if b.maximum is not None]
        return min(left) if left else None

    def reserve(self, estimate: Decimal, *, step: str, alias: str) -> Reservation:
        """Hold `estimate` for a call here and in every ancestor, or raise `BudgetExceeded` (naming
        the limit that would be passed, the nearest first) and hold nothing."""
        with self._lock:
            lineage = self._lineage()
            for budget in lineage:
                committed = budget.spent + budget.reserved
                if budget.maximum is not None and committed + estimate > budget.maximum:
                    raise BudgetExceeded(step, alias, estimate, committed, budget.maximum, "run")
            for budget in lineage:
                budget.reserved += estimate
        return Reservation(self, estimate)

    def _settle(self, estimate: Decimal, actual: Decimal) -> None:
        with self._lock:
            for budget in self._lineage():
                budget.reserved -= estimate
                budget.spent += actual


# ---------------------------------------------------------------- what the run would have cost


@dataclass(frozen=True, slots=True)
class ComparisonRow:
    """One served call: its step, alias, tokens, real `cost` and `reference_cost` on the reference model."""

    step: str
    alias: str
    tokens_in: int
    tokens_out: int
    cost: Decimal
    reference_cost: Decimal


@dataclass(frozen=True, slots=True)
class CostComparison:
    """A finished run priced twice: as it ran (`actual`) and with every call's tokens on
    `reference_alias`, the dearest model the tier allows (`reference`)."""

    tier: str
    reference_alias: str | None
    reference_model: str | None
    rows: tuple[ComparisonRow, ...]
    actual: Decimal
    reference: Decimal

    @property
    def saving(self) -> Decimal:
        """Dollars saved by routing (negative if routing cost more)."""
        return self.reference - self.actual


def compare_costs(
    ledger: CostLedger, config: RuntimeConfig, tier: str, prices: PriceBook | None = None
) -> CostComparison:
    """What the run's calls (same tokens) would have cost on the most expensive model `tier` allows.

    Attempts that used tokens are priced again; attempts charged without tokens (cancelled in
    flight, impossible usage: charged their worst case) count the same on both sides, so `actual`
    is always the ledger's total. Aliases litellm cannot price are left out of the choice of
    reference; with none priced the reference is None and equals the actual cost.
    """
    prices = prices or PriceBook(config)
    used = [a for a in ledger.attempts if a.tokens_in or a.tokens_out]
    candidates = _priced_aliases(config.tier(tier).models, prices)
    totals = {name: sum((price.cost(a.tokens_in, a.tokens_out) for a in used), ZERO) for name, price in candidates}
    reference = max(totals, key=lambda name: totals[name], default=None)
    ref_price = prices.price(reference) if reference else None
    rows = tuple(
        ComparisonRow(
            a.step, a.alias, a.tokens_in, a.tokens_out, a.cost,
            ref_price.cost(a.tokens_in, a.tokens_out) if ref_price else a.cost,
        )
        for a in used
    )
    charged_without_tokens = sum((a.cost for a in ledger.attempts if not (a.tokens_in or a.tokens_out)), ZERO)
    actual = sum((row.cost for row in rows), charged_without_tokens)
    ref_total = sum((row.reference_cost for row in rows), charged_without_tokens)
    model = config.alias(reference).model if reference else None
    return CostComparison(tier, reference, model, rows, actual, ref_total)


def _priced_aliases(names: tuple[str, ...], prices: PriceBook) -> list[tuple[str, Any]]:
    priced = []
    for name in names:
        try:
            priced.append((name, prices.price(name)))
        except ConfigError:
            continue  # an unpriced alias cannot be the reference; the run itself never used it
    return priced
