"""`RunResult`: what a run produced and what it cost, with its text and JSON renderings.

A result carries the `outputs` (the spec's declared output fields), the `guards` (each checked
invariant: passed, failed or warned, with its id and spec file:line), the `ledger` (every LLM
attempt), the `cost` comparison (the same calls priced on the most expensive model the tier
allows), `tools_called`, `steps`, `latency_s`, and `error` when the run failed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal

from agent_factory.plugins.cost import money

from .budget import Attempt, CostComparison

GuardStatus = Literal["passed", "failed", "warned"]


@dataclass(frozen=True)
class GuardResult:
    """One invariant checked by a guard: `id`, `title`, `modality`, `status`, where it is written
    (`file`, `line`), the `check` source, `detail` (why it failed or could not be evaluated), and
    `run`: the nested run that checked it (a Team member, an `agent:` step; "" for the run itself),
    so an inherited constitution checked by both is not shown twice without saying whose."""

    id: str
    title: str
    modality: str
    status: GuardStatus
    file: str
    line: int
    check: str
    detail: str = ""
    run: str = ""

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}"

    def as_json(self) -> dict[str, Any]:
        return {"id": self.id, "title": self.title, "modality": self.modality, "status": self.status,
                "file": self.file, "line": self.line, "check": self.check, "detail": self.detail, "run": self.run}


class RunFailed(Exception):
    """Raised by `RunResult.raise_for_error()`; the message is the run's error."""


@dataclass
class RunResult:
    """The outcome of `run_spec`. `ok` is False when `error` is set (the run stopped)."""

    spec_path: str
    spec_name: str
    inputs: dict[str, Any]
    outputs: dict[str, Any] = field(default_factory=dict)
    state: dict[str, Any] = field(default_factory=dict)
    guards: list[GuardResult] = field(default_factory=list)
    ledger: list[Attempt] = field(default_factory=list)
    cost: CostComparison | None = None
    tools_called: list[str] = field(default_factory=list)
    steps: list[str] = field(default_factory=list)
    latency_s: float = 0.0
    error: str | None = None
    error_type: str | None = None
    thread: str | None = None
    tier: str = ""

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def warnings(self) -> list[GuardResult]:
        return [g for g in self.guards if g.status == "warned"]

    @property
    def cost_usd(self) -> Decimal:
        """The run's real cost (every attempt, served or not)."""
        return sum((a.cost for a in self.ledger), Decimal(0))

    def raise_for_error(self) -> RunResult:
        """Raise `RunFailed` when the run failed; else return self."""
        if self.error is not None:
            raise RunFailed(self.error)
        return self

    # ------------------------------------------------------------ renderings

    def as_json(self) -> dict[str, Any]:
        """A JSON-ready dict (money as strings with six decimals, as `agent-factory cost` gives it)."""
        cost = self.cost
        return {
            "spec": self.spec_path, "name": self.spec_name, "ok": self.ok, "error": self.error,
            "error_type": self.error_type,
            "inputs": self.inputs, "outputs": self.outputs,
            "guards": [g.as_json() for g in self.guards],
            "ledger": [a.as_json() for a in self.ledger],
            "cost": None if cost is None else {
                "tier": cost.tier, "total": money(cost.actual), "reference_alias": cost.reference_alias,
                "reference_model": cost.reference_model, "reference_total": money(cost.reference),
                "saving": money(cost.saving),
            },
            "tools_called": self.tools_called, "steps": self.steps, "latency_s": round(self.latency_s, 3),
            "thread": self.thread,
        }

    def render_text(self) -> str:
        """Outputs, guard results and the cost table, as the `run` command prints them."""
        lines: list[str] = []
        if self.error:
            lines += [f"error: {self.error}", ""]
        if self.outputs:
            lines.append("outputs:")
            lines += [f"  {name}: {_show(value)}" for name, value in self.outputs.items()]
            lines.append("")
        if self.guards:
            lines.append("guards:")
            lines += [_guard_line(g) for g in self.guards]
            lines.append("")
        lines += cost_table(self.ledger, self.cost)
        lines.append(f"steps: {', '.join(self.steps) or 'none'}; tools called: {', '.join(self.tools_called) or 'none'}; "
                     f"latency {self.latency_s:.2f}s")
        return "\n".join(lines)


_MARK = {"passed": "✓", "failed": "✗", "warned": "!"}


def _guard_line(guard: GuardResult) -> str:
    detail = f" — {guard.detail}" if guard.detail else ""
    whose = f" in {guard.run}" if guard.run else ""
    return f"  {_MARK[guard.status]} {guard.id} {guard.title} ({guard.where}){whose}: {guard.status}{detail}"


def _show(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return json.dumps(value, ensure_ascii=False, default=str)


def usd(amount: Decimal) -> str:
    """Dollars with six places: fractions of a cent stay visible."""
    return f"${money(amount)}"


def _outcome(attempt: Attempt) -> str:
    """The outcome column; an answer that cost more than was reserved says so (it stopped the run)."""
    return f"{attempt.outcome}, overrun" if attempt.overrun else attempt.outcome


def cost_table(ledger: list[Attempt], cost: CostComparison | None) -> list[str]:
    """One line per LLM attempt (step, alias/model, tokens, cost, latency, outcome), the total,
    and what the same calls would have cost on the tier's most expensive model."""
    header = f"  {'step':<22} {'alias/model':<40} {'in':>7} {'out':>6} {'cost':>11} {'latency':>8}  outcome"
    lines = ["cost:", header]
    for a in ledger:
        lines.append(f"  {a.step[:22]:<22} {(a.alias + '/' + a.model)[:40]:<40} {a.tokens_in:>7} {a.tokens_out:>6} "
                     f"{usd(a.cost):>11} {a.latency_s:>7.2f}s  {_outcome(a)}")
    total = sum((a.cost for a in ledger), Decimal(0))
    lines.append(f"  total: {usd(total)} ({len(ledger)} call{'s' if len(ledger) != 1 else ''})")
    used = any(a.tokens_in or a.tokens_out for a in ledger)
    if cost is not None and cost.reference_model and used:  # nothing to compare when no tokens were used
        lines.append(f"  on {cost.reference_model} these calls would have cost {usd(cost.reference)} — "
                     f"saved {usd(cost.saving)}")
    lines.append("")
    return lines
