"""The runtime's exception family: everything the router, budget and replay raise.

Each exception carries the numbers or attempts that explain it, and its message is
complete on its own (it is what a spec author reads when a run stops).
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .budget import Attempt


class AgentRuntimeError(RuntimeError):
    """Base of every runtime failure. A `RuntimeError`, so servers that show only the messages of
    builtin error types (LangGraph's does) show ours: the code, the step, the spec line."""


class ConfigError(AgentRuntimeError):
    """`agent-factory.toml` is missing, unreadable or invalid; the message names the file and key."""


class NoModelAvailable(AgentRuntimeError):
    """No configured alias may serve this task in this tier (a configuration problem, not an outage)."""

    def __init__(self, step: str, task: str, tier: str, reason: str) -> None:
        self.step, self.task, self.tier = step, task, tier
        super().__init__(f"step '{step}': no model serves task '{task}' in tier '{tier}': {reason}")


def _usd(amount: Decimal) -> str:
    """Money as `$0.000123`: enough places to see fractions of a cent, no float rounding."""
    return f"${amount.quantize(Decimal('0.000001')):f}"


class BudgetExceeded(AgentRuntimeError):
    """The call was refused before it was made: its worst-case cost would cross a limit.

    `limit` is `run` (`max_cost_per_run`) or `request` (the tier's `max_cost_per_request`);
    `estimate` is the cheapest refused worst case, `spent` what the run has spent (plus calls in
    flight), `maximum` the limit.
    """

    def __init__(self, step: str, alias: str, estimate: Decimal, spent: Decimal, maximum: Decimal, limit: str) -> None:
        self.step, self.alias, self.limit = step, alias, limit
        self.estimate, self.spent, self.maximum = estimate, spent, maximum
        if limit == "run":
            detail = (
                f"worst case {_usd(estimate)} on '{alias}' + {_usd(spent)} already spent "
                f"would exceed max_cost_per_run {_usd(maximum)}"
            )
        else:
            detail = f"worst case {_usd(estimate)} on '{alias}' exceeds the tier's max_cost_per_request {_usd(maximum)}"
        super().__init__(f"step '{step}': call refused, {detail}")


class UsageRejected(AgentRuntimeError):
    """A provider (or a cassette) reported usage no call can have: a negative or non-integer token
    count. The call is charged its reserved worst case and the run stops."""

    def __init__(self, step: str, alias: str, detail: str, source: str, charged: Decimal) -> None:
        self.step, self.alias, self.charged = step, alias, charged
        super().__init__(
            f"step '{step}': '{alias}' reported impossible usage ({detail}) {source}; "
            f"charged the worst case reserved, {_usd(charged)}, and stopped the run"
        )


class UsageOverrun(AgentRuntimeError):
    """An answer used more than was reserved for it (completion tokens past `max_tokens`, or a cost
    past the worst case): it is charged in full, flagged on its attempt, and the run stops."""

    def __init__(self, step: str, alias: str, tokens: tuple[int, int], max_tokens: int,
                 cost: Decimal, reserved: Decimal) -> None:
        self.step, self.alias, self.cost, self.reserved = step, alias, cost, reserved
        super().__init__(
            f"step '{step}': '{alias}' reported {tokens[0]} prompt and {tokens[1]} completion tokens "
            f"(max_tokens {max_tokens}), costing {_usd(cost)} where {_usd(reserved)} was reserved; "
            "charged in full and stopped the run"
        )


class AllModelsFailed(AgentRuntimeError):
    """Every alias of the plan was tried (or refused) and none answered; `attempts` lists each one."""

    def __init__(self, step: str, attempts: Sequence[Attempt]) -> None:
        self.step = step
        self.attempts = tuple(attempts)
        lines = [f"step '{step}': all models failed ({len(self.attempts)} attempts)"]
        lines += [f"  - {a.alias} ({a.model}): {a.outcome}: {a.error}" for a in self.attempts]
        super().__init__("\n".join(lines))


class ReplayMiss(AgentRuntimeError):
    """Replay mode found no cassette for a request; the message shows the step, the request and the
    nearest cassette (if any) with what differs."""

    def __init__(self, step: str, key: str, message: str) -> None:
        self.step, self.key = step, key
        super().__init__(message)
