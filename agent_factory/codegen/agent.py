"""Drive one OpenHands conversation: the coding agent receives TASK.md and works in the workspace.

The SDK's `LocalConversation` runs the agent loop; the loop stops when the agent calls
`finish`, gets stuck, reaches the iteration limit or its budget (every LLM call is refused
before it is sent when its worst case could cross the budget, so a job never ends above it). Whatever
happens, the outcome and the spend come back as data; an exception inside the SDK (a
provider that keeps failing, say) becomes an `error` outcome, not a crash.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

from .job import Job
from .llm_config import LLMSettings
from .report import AgentOutcome, Cost
from .sdk import import_sdk

Progress = Callable[[str], None]
DETAIL_LIMIT = 500
USD_QUANTUM = Decimal("0.00000001")
_ERROR_STATUS = {"MaxBudgetReached": "budget", "BudgetRefused": "budget", "MaxIterationsReached": "max_iterations"}
# the output allowance assumed for a call when neither the job nor the model names one
DEFAULT_MAX_OUTPUT_TOKENS = 4096


def run_agent(
    job: Job, task: str, workspace: Path, settings: LLMSettings, budget: Decimal | None, progress: Progress | None = None
) -> tuple[AgentOutcome, Cost]:
    """Send `task` to a fresh OpenHands agent working in `workspace`; run it to the end."""
    sdk = import_sdk()
    from openhands.sdk.io import InMemoryFileStore

    from .tools import REGISTRY  # registers the tools; needs the SDK

    llm = build_llm(sdk, settings, budget)
    agent = sdk.Agent(llm=llm, tools=[sdk.Tool(name=REGISTRY[name]) for name in job.allowed_tools])
    events: list = []
    conversation = None
    try:
        conversation = sdk.LocalConversation(
            agent=agent, workspace=str(workspace), callbacks=[events.append, _reporter(progress)],
            visualizer=None, file_store=InMemoryFileStore(), max_iteration_per_run=job.budget.max_iterations,
            max_budget_per_run=float(budget) if budget is not None else None,
        )
        conversation.send_message(task)
        conversation.run()
        outcome = _outcome(conversation, events, settings)
    except Exception as exc:  # noqa: BLE001 - the SDK wraps provider failures in several types
        refused = [e for e in events if getattr(e, "code", None) == "BudgetRefused"]
        outcome = (_outcome(conversation, events, settings) if refused else
                   AgentOutcome(status="error", model=settings.model, detail=_short(f"{type(exc).__name__}: {exc}")))
    if conversation is None:
        return outcome, Cost(budget_usd=budget)
    cost, calls = _cost(conversation, budget), _llm_calls(conversation)
    seen = llm._af_seen.get("metrics")  # a run stopped by an exception may not reach the stats
    if seen is not None and usd(seen.accumulated_cost) > cost.usd:
        cost, calls = _cost_of(seen, budget), len(seen.response_latencies)
    conversation.close()
    return outcome.model_copy(update={"llm_calls": calls}), cost


class BudgetRefused(Exception):
    """A coding-agent LLM call refused before it was sent: its worst case would cross the budget."""


def _budgeted(sdk):
    """The SDK's `LLM` with a check before every call: the worst case of the call (the request's
    size in bytes as prompt tokens, plus the output allowance, at the model's prices) added to
    what was spent must stay within the budget, as the runtime router does for agent runs (the
    SDK's own check runs only after each step, when the call is already paid for)."""
    from pydantic import PrivateAttr

    class BudgetedLLM(sdk.LLM):
        _af_budget: Decimal | None = PrivateAttr(default=None)
        # shared by the copies the SDK makes of an LLM: what was spent through any of them
        _af_seen: dict = PrivateAttr(default_factory=dict)

        def completion(self, messages, tools=None, *args, **kwargs):
            self._af_check(messages, tools)
            response = super().completion(messages, tools, *args, **kwargs)
            if self.metrics is not None:
                self._af_seen["metrics"] = self.metrics
            return response

        def _af_check(self, messages, tools) -> None:
            prices = _prices(self)
            if self._af_budget is None or prices is None:
                return  # no budget, or a model without a known price: the SDK's own check applies
            size = len(repr([m.model_dump(mode="json") for m in messages]).encode("utf-8"))
            size += len(repr([getattr(t, "name", t) for t in tools or ()]).encode("utf-8"))
            allowance = self.max_output_tokens or DEFAULT_MAX_OUTPUT_TOKENS
            worst = Decimal(size) * prices[0] + Decimal(allowance) * prices[1]
            spent = Decimal(str(self.metrics.accumulated_cost)) if self.metrics else Decimal(0)
            if spent + worst > self._af_budget:
                raise BudgetRefused(
                    f"the next call could cost up to ${worst:.6f}; with ${spent:.6f} spent that would pass the "
                    f"budget of ${self._af_budget}")

    return BudgetedLLM


def _prices(llm) -> tuple[Decimal, Decimal] | None:
    """(input, output) price per token: the configured ones, else litellm's bundled map."""
    if llm.input_cost_per_token is not None and llm.output_cost_per_token is not None:
        return Decimal(str(llm.input_cost_per_token)), Decimal(str(llm.output_cost_per_token))
    import litellm

    entry = litellm.model_cost.get(llm.model) or litellm.model_cost.get(llm.model.split("/", 1)[-1])
    if not entry or entry.get("input_cost_per_token") is None or entry.get("output_cost_per_token") is None:
        return None
    return Decimal(str(entry["input_cost_per_token"])), Decimal(str(entry["output_cost_per_token"]))


def build_llm(sdk, settings: LLMSettings, budget: Decimal | None = None):
    """The SDK's `LLM` for `settings` (prices only when configured, else litellm's map); with a
    `budget`, every call is refused before it is sent when it could cross it."""
    from pydantic import SecretStr

    options = {
        "model": settings.model,
        "usage_id": "agent-factory-codegen",
        "base_url": settings.base_url,
        "api_key": SecretStr(settings.api_key) if settings.api_key else None,
        "num_retries": settings.retries,
        "timeout": int(settings.timeout_s) if settings.timeout_s else None,
        "temperature": float(settings.temperature) if settings.temperature is not None else None,
        "max_output_tokens": settings.max_output_tokens,
        "input_cost_per_token": _float(settings.input_cost_per_token),
        "output_cost_per_token": _float(settings.output_cost_per_token),
    }
    llm = _budgeted(sdk)(**{key: value for key, value in options.items() if value is not None})
    llm._af_budget = budget
    return llm


def _float(value: Decimal | None) -> float | None:
    return float(value) if value is not None else None


def _reporter(progress: Progress | None) -> Callable[[object], None]:
    """A conversation callback that reports each tool call in one line."""

    def report(event: object) -> None:
        name = getattr(event, "tool_name", None)
        if progress is not None and name and type(event).__name__ == "ActionEvent":
            action = getattr(event, "action", None)
            target = next((v for v in (getattr(action, k, None) for k in ("path", "command", "message")) if v), "")
            progress(f"{name}: {_short(str(target), 100)}")

    return report


def _outcome(conversation, events: list, settings: LLMSettings) -> AgentOutcome:
    status = str(conversation.state.execution_status.value)
    errors = [e for e in events if type(e).__name__ == "ConversationErrorEvent"]
    if errors:
        last = errors[-1]
        return AgentOutcome(status=_ERROR_STATUS.get(last.code, "error"), model=settings.model, detail=_short(last.detail))
    return AgentOutcome(status=status, model=settings.model)


def _cost(conversation, budget: Decimal | None) -> Cost:
    return _cost_of(conversation.conversation_stats.get_combined_metrics(), budget)


def _cost_of(metrics, budget: Decimal | None) -> Cost:
    usage = metrics.accumulated_token_usage
    return Cost(
        usd=usd(metrics.accumulated_cost),
        prompt_tokens=usage.prompt_tokens if usage else 0,
        completion_tokens=usage.completion_tokens if usage else 0,
        budget_usd=budget,
    )


def usd(amount: float) -> Decimal:
    """The SDK's float dollars as a Decimal without binary noise (to a millionth of a cent)."""
    exact = Decimal(repr(amount)).quantize(USD_QUANTUM).normalize()
    return exact.quantize(Decimal(1)) if exact.as_tuple().exponent > 0 else exact


def _llm_calls(conversation) -> int:
    return len(conversation.conversation_stats.get_combined_metrics().response_latencies)


def _short(text: str, limit: int = DETAIL_LIMIT) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
