"""Drive one OpenHands conversation: the coding agent receives TASK.md and works in the workspace.

The SDK's `LocalConversation` runs the agent loop; the loop stops when the agent calls
`finish`, gets stuck, reaches the iteration limit or spends the budget (the SDK checks the
budget after each step, so the last step can overshoot it by one LLM call). Whatever
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
_ERROR_STATUS = {"MaxBudgetReached": "budget", "MaxIterationsReached": "max_iterations"}


def run_agent(
    job: Job, task: str, workspace: Path, settings: LLMSettings, budget: Decimal | None, progress: Progress | None = None
) -> tuple[AgentOutcome, Cost]:
    """Send `task` to a fresh OpenHands agent working in `workspace`; run it to the end."""
    sdk = import_sdk()
    from openhands.sdk.io import InMemoryFileStore

    from .tools import REGISTRY  # registers the tools; needs the SDK

    llm = build_llm(sdk, settings)
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
        outcome = AgentOutcome(status="error", model=settings.model, detail=_short(f"{type(exc).__name__}: {exc}"))
    if conversation is None:
        return outcome, Cost(budget_usd=budget)
    cost, calls = _cost(conversation, budget), _llm_calls(conversation)
    conversation.close()
    return outcome.model_copy(update={"llm_calls": calls}), cost


def build_llm(sdk, settings: LLMSettings):
    """The SDK's `LLM` for `settings` (prices only when configured, else litellm's map)."""
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
    return sdk.LLM(**{key: value for key, value in options.items() if value is not None})


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
    metrics = conversation.conversation_stats.get_combined_metrics()
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
