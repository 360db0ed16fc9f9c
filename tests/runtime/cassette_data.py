"""Regenerate the shipped cassettes (specs/cassettes/) from authored answers.

    .venv/bin/python tests/runtime/cassette_data.py

The answers below are written by hand — plausible, not real model output. Each spec is run with
`record=` against the stub LLM server (the real litellm HTTP path), with a scripted web search, so
the cassettes hold exactly the requests the runtime makes today; and once more as the hosted API
runs it (under the platform's constitution, whose rules are in the system prompt), so that
`serve --replay specs/cassettes/<spec>` answers hosted runs of the shipped specs too. Re-run this script whenever a
prompt, a schema or a spec changes (a replay miss in `agent-factory test` says so).
To record against a real provider instead, see specs/cassettes/README.md.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"
KEY_ENV = "AF_CASSETTE_STUB_KEY"
os.environ.setdefault(KEY_ENV, "stub-key")

from agent_factory.platform.agents.compile import checked_spec  # noqa: E402
from agent_factory.runtime.config import parse_config  # noqa: E402
from agent_factory.runtime.executor import run_spec  # noqa: E402
from agent_factory.runtime.tools import SearchHit, ToolConfig, ToolContext  # noqa: E402
from agent_factory.testing import StubLLM, reply  # noqa: E402

TODO = "A to-do list app with reminders"
VET = "Compliance copilot for small veterinary clinics"
TRENDS = "What are the top three AI trends this year?"
STOCK = "Should I buy NVDA tomorrow?"

# ---------------------------------------------------------------- authored answers, by topic and step

SEARCHES = {
    (TODO, "research_market"): "to-do list app market size 2025",
    (TODO, "analyze_competitors"): "best to-do list apps with reminders",
    (VET, "research_market"): "veterinary clinic compliance software market",
    (VET, "analyze_competitors"): "veterinary practice compliance software competitors",
    (TRENDS, "agent"): "top AI trends this year",
    (STOCK, "agent"): "NVDA stock news",
}

HITS = {
    "to-do list app market size 2025": [
        ("Task management software market report", "https://example.com/reports/task-management-2025",
         "The task management app market is about $4.3B and grows 13% a year; consumer to-do apps are mostly free."),
    ],
    "best to-do list apps with reminders": [
        ("The 25 best to-do list apps", "https://example.com/reviews/best-todo-apps",
         "Todoist, TickTick, Microsoft To Do, Things 3, Any.do, Google Tasks, Apple Reminders and many more."),
    ],
    "veterinary clinic compliance software market": [
        ("Veterinary software market outlook", "https://example.com/reports/vet-software",
         "About 30,000 small animal clinics in the US; compliance (controlled drugs logs, OSHA, records) is mostly on paper."),
    ],
    "veterinary practice compliance software competitors": [
        ("Practice management vendors compared", "https://example.com/reviews/vet-pims",
         "PIMS vendors (ezyVet, Cornerstone, Shepherd) cover records; few cover compliance audits end to end."),
    ],
    "top AI trends this year": [
        ("AI trends report", "https://example.com/ai/trends-report",
         "AI agents that use tools, small efficient open models, and AI regulation lead this year's trends."),
    ],
    "NVDA stock news": [
        ("NVIDIA investor relations", "https://example.com/nvda/investor-relations",
         "Quarterly results and filings of NVIDIA Corporation."),
    ],
}

ANSWERS: dict[tuple[str, str], dict[str, Any]] = {
    (TODO, "research_market"): {"market_data": (
        "Task management apps are a ~$4.3B market growing ~13% a year, but consumer to-do apps are overwhelmingly "
        "free or $3-5/month; pain points are clutter and forgotten reminders; willingness to pay is low.")},
    (TODO, "analyze_competitors"): {"competitors": (
        "Todoist ($4/mo, natural-language input), TickTick ($3/mo, habits and pomodoro), Microsoft To Do (free), "
        "Things 3 (one-time $50, design), Any.do ($6/mo), Google Tasks and Apple Reminders (free, built in); "
        "dozens more with near-identical features.")},
    (TODO, "assess_feasibility"): {"feasibility": (
        "Technically easy: CRUD, notifications and sync are well understood; a small team ships an MVP in weeks. "
        "Execution difficulty is low; distribution is the hard part.")},
    (TODO, "project_revenue"): {"revenue": (
        "With free incumbents, expect ~2,000 installs and a 2% paid conversion at $3/month after six months: "
        "about $120-$400 MRR.")},
    (TODO, "synthesize"): {
        "novelty_score": 12, "market_size_score": 70, "competition_score": 95, "execution_difficulty": 15,
        "estimated_mrr": 300, "competitor_count": 40,
        "reasoning": "A crowded, commoditised category dominated by free built-in apps; nothing here is new.",
        "next_steps": ["Pick a narrow audience with an unmet reminder problem (e.g. medication schedules for carers)",
                       "Interview ten people in that audience before writing code"],
    },
    (VET, "research_market"): {"market_data": (
        "About 30,000 small animal clinics in the US; controlled-drug logs, OSHA and records audits are mostly kept "
        "on paper; clinics already pay $200-$600/month for practice software.")},
    (VET, "analyze_competitors"): {"competitors": (
        "Practice management systems (ezyVet, Cornerstone, Shepherd) cover records but not compliance audits; "
        "two small compliance-logging tools exist; no copilot that prepares inspections end to end.")},
    (VET, "assess_feasibility"): {"feasibility": (
        "Moderate: integrations with two or three PIMS and keeping rules current per state take work; "
        "the core workflow (checklists, logs, reminders, audit export) is standard.")},
    (VET, "project_revenue"): {"revenue": (
        "At $149/clinic/month, 50 clinics after six months through veterinary associations gives about $7,450 MRR.")},
    (VET, "synthesize"): {
        "novelty_score": 78, "market_size_score": 55, "competition_score": 30, "execution_difficulty": 55,
        "estimated_mrr": 7450, "competitor_count": 4,
        "reasoning": "A specific, painful, paid-for problem with little direct competition; integrations are the risk.",
        "next_steps": ["Shadow two clinic managers through a DEA controlled-substance audit",
                       "Pre-sell a pilot to five clinics via a state veterinary association"],
    },
    (TRENDS, "agent"): {
        "answer": ("The top three: AI agents that plan and use tools, smaller efficient open models, and new AI "
                   "regulation shaping deployments."),
        "sources": ["https://example.com/ai/trends-report"], "confidence": 0.7,
    },
    (STOCK, "agent"): {
        "answer": ("I can't give investment advice or predict share prices. NVIDIA's latest results and filings are "
                   "on its investor relations page; a licensed financial adviser can help with trading decisions."),
        "sources": ["https://example.com/nvda/investor-relations"], "confidence": 0.9,
    },
}

RUNS = [
    ("brain_fart_checker", {"idea": TODO}),
    ("brain_fart_checker", {"idea": VET}),
    ("market_research", TRENDS),
    ("market_research", STOCK),
]


def _topic(body: dict[str, Any]) -> str:
    text = json.dumps(body.get("messages", []))
    return next(topic for topic in (TODO, VET, TRENDS, STOCK) if topic in text)


def handler(body: dict[str, Any]):
    """The authored answer for this request: a search first for tool-using steps, then the JSON."""
    step = body["response_format"]["json_schema"]["name"]
    topic = _topic(body)
    searched = any(m.get("role") == "tool" for m in body["messages"])
    if body.get("tools") and not searched:
        return reply(None, tool_calls=[{"name": "web_search", "arguments": {"query": SEARCHES[(topic, step)]}}])
    return reply(json.dumps(ANSWERS[(topic, step)], ensure_ascii=False))


class AuthoredSearch:
    """The scripted web search used while recording."""

    async def search(self, query: str, max_results: int, ctx: Any) -> list[SearchHit]:
        return [SearchHit(title=t, url=u, snippet=s) for t, u, s in HITS[query]][:max_results]


def config_for(stub: StubLLM):
    """The default aliases (same names, tasks and tiers), all answered by the stub, at list prices."""
    def alias(name: str, model: str, tasks: str, price_in: str, price_out: str) -> str:
        return (f'[models.{name}]\nmodel = "openai/{model}"\napi_base = "{stub.base_url}"\napi_key_env = "{KEY_ENV}"\n'
                f"tasks = [{tasks}]\ninput_cost_per_token = {price_in}\noutput_cost_per_token = {price_out}\n")

    return parse_config("\n".join([
        '[router]\nfallback = ["local", "perplexity", "claude"]\n',
        alias("local", "authored-local", '"simple", "classification"', "0", "0"),
        alias("perplexity", "authored-perplexity", '"simple", "classification", "research"', "0.000001", "0.000001"),
        alias("claude", "authored-claude", '"simple", "classification", "research", "complex_reasoning", '
              '"code_generation"', "0.000003", "0.000015"),
        '[tiers.pro]\nmodels = ["local", "perplexity", "claude"]\n',
    ]), "cassette_data.py")


def main() -> int:
    os.chdir(ROOT)  # specs by their usual relative paths, as `agent-factory test` names them
    out = Path("specs") / "cassettes"
    for stem in {stem for stem, _ in RUNS}:
        shutil.rmtree(out / stem, ignore_errors=True)
    with StubLLM(handler) as stub:
        config = config_for(stub)
        for stem, inputs in RUNS:
            context = ToolContext(config=ToolConfig(), providers={"web_search": AuthoredSearch()})
            path = Path("specs") / f"{stem}.md"
            hosted, errors = checked_spec(path.read_text(encoding="utf-8"))
            if hosted is None:
                print(f"{stem}: does not check as the hosted API checks it:", *errors, sep="\n")
                return 1
            for where, spec in (("local", path), ("hosted", hosted)):
                result = run_spec(spec, inputs, config=config, record=out / stem, tool_context=context)
                print(f"{stem} ({where}): {inputs} -> {'ok' if result.ok else result.error}; outputs {result.outputs}")
                if not result.ok:
                    return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
