"""Compiler throughput bench: `check_text` over generated corpora, against markdown-it-py.

Run from the repository root:

    .venv/bin/python bench/bench_compiler.py            # full run (1 .. 10000 sections)
    .venv/bin/python bench/bench_compiler.py --quick    # smoke run (skips 10000, fewer repeats)

What it measures (all in one process, one run, so the ratios compare like with like):

* For corpora totalling 1, 100, 1000 and 10000 H2 sections of generated, valid specs: the
  median wall time of `check_text` over the whole corpus (after a warm-up pass), and the
  median time of `markdown_it.MarkdownIt().parse` over the same texts (the baseline: a pure
  Python CommonMark tokenizer doing strictly less work than we do).
* A 200-line spec checked warm, median over >= 50 runs, against the 10 ms target.
* Linearity: time per section at 10000 sections vs at 100 (1.0 = perfectly linear).
* Parse-only share: `parse_text` (syntax -> IR, no passes) as a fraction of `check_text`.

The generator is seeded and deterministic; every generated spec must check with no errors
(the script asserts it), so the bench times the success path, not error reporting.
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import random
import statistics
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from markdown_it import MarkdownIt  # noqa: E402

from agent_factory.compiler import check_text, parse_text  # noqa: E402
from agent_factory.compiler.diagnostics import Severity  # noqa: E402

SEED = 20240611
SIZES = (1, 100, 1000, 10000)
TARGET_MS_200 = 10.0

# Specs are checked as if they lived in `specs/_bench/` (the folder need not exist): the
# constitution discovery walks the real tree and applies `specs/constitution.md`, as it does
# for the repository's own specs (its parse is cached per manager, like in `check` over a folder).
SPEC_DIR = Path(__file__).resolve().parents[1] / "specs" / "_bench"

# ---------------------------------------------------------------------------------------------
# Deterministic spec generator
# ---------------------------------------------------------------------------------------------

WORDS = (
    "market trend customer price invoice refund ticket order account report source claim "
    "summary risk plan budget latency vendor region product feature review signal score"
).split()
BUILTIN_TOOLS = ("web_search", "wikipedia", "http_fetch", "current_time", "calculator")
OPTIONAL_SECTIONS = (
    "Scope", "Inputs", "Outputs", "Invariants", "Tools", "Model", "Workflow", "Rules",
    "Examples", "Success Criteria",
)
TASKS = ("simple", "classification", "research", "complex_reasoning", "code_generation")


@dataclass
class Field:
    name: str
    type: str  # the written type, e.g. `float[0..1]`
    kind: str  # str int float bool url list enum irange frange
    optional: bool = False
    values: tuple[str, ...] = ()


def _words(rng: random.Random, n: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(n))


def _field(rng: random.Random, name: str, kind: str, optional: bool = False) -> Field:
    if kind == "list":
        inner = rng.choice(("str", "url", "int", "float"))
        return Field(name, f"list[{inner}]", kind, optional)
    if kind == "enum":
        values = tuple(sorted({rng.choice(("LOW", "MEDIUM", "HIGH", "URGENT", "NONE")) for _ in range(3)} | {"OK"}))
        return Field(name, f"enum({'|'.join(values)})", kind, optional, values)
    if kind == "irange":
        return Field(name, "int[0..100]", kind, optional)
    if kind == "frange":
        return Field(name, "float[0..1]", kind, optional)
    return Field(name, kind, kind, optional)


FIELD_KINDS = ("str", "int", "float", "bool", "url", "list", "enum", "irange", "frange")


def _fields(rng: random.Random, prefix: str, n: int, optional_rate: float) -> list[Field]:
    """`n` fields of varied types; the first is a required `str`, the others optional at `optional_rate`."""
    out = []
    for i in range(n):
        kind = FIELD_KINDS[(i + rng.randrange(len(FIELD_KINDS))) % len(FIELD_KINDS)] if i else "str"
        out.append(_field(rng, f"{prefix}_{rng.choice(WORDS)}_{i}", kind, optional=(i > 0 and rng.random() < optional_rate)))
    return out


def _expr(rng: random.Random, f: Field) -> str:
    """A well-typed boolean expression over field `f`."""
    n = f.name
    if f.kind == "list":
        return f"len({n}) >= {rng.randint(0, 3)}"
    if f.kind in ("int", "irange"):
        return f"{n} <= {rng.randint(10, 100)}"
    if f.kind in ("float", "frange"):
        return f"{n} >= {rng.randint(0, 9) / 10}"
    if f.kind == "bool":
        return rng.choice((f"{n} == true", f"not {n}"))
    if f.kind == "enum":
        return f'{n} == "{rng.choice(f.values)}"'
    if f.kind == "url":
        return f'{n} matches "^https://"'
    return rng.choice((f'{n} contains "{rng.choice(WORDS)}"', f"len({n}) > {rng.randint(1, 20)}"))


def _run_fact(rng: random.Random, tools: list[str]) -> str:
    # limits loose enough that the static analyses never find a violating path
    options = [f"run.cost_usd <= ${rng.choice(('0.90', '1.00'))}", f"run.latency_s <= {rng.randint(25, 30)}",
               f"len(run.steps) <= {rng.randint(30, 40)}"]
    if tools:
        options.append(f'"{rng.choice(tools)}" in run.tools_called')
    return rng.choice(options)


class SpecBuilder:
    """Renders one valid Agent spec with the chosen sections; `scale` multiplies list lengths."""

    def __init__(self, rng: random.Random, index: int, sections: list[str], scale: int = 1) -> None:
        self.rng, self.index, self.scale = rng, index, scale
        self.sections = set(sections)
        self.order = sections
        r = rng
        self.inputs = _fields(r, "in", r.randint(1, 3) * scale, optional_rate=1.0) if "Inputs" in self.sections else [Field("query", "str", "str")]
        if "Outputs" in self.sections:
            self.outputs = _fields(r, "out", r.randint(2, 5) * scale, optional_rate=0.2)
            if "Rules" in self.sections:
                self.outputs.append(Field("verdict", "enum(BUILD|ITERATE|KILL)", "enum", False, ("BUILD", "ITERATE", "KILL")))
                self.outputs.append(Field("verdict_reason", "str", "str"))
        else:
            self.outputs = [Field("answer", "str", "str")]
        self.required_outputs = [f for f in self.outputs if not f.optional]
        # what the `synthesize` step writes (the rules step writes the verdict pair after it)
        self.computed = [f for f in self.required_outputs if f.name not in ("verdict", "verdict_reason")]
        self.tools: list[str] = []
        self.bound: dict[str, list[str]] = {}  # http-bound tool name -> its path arguments
        self.python_tools: list[str] = []
        if "Tools" in self.sections:
            self.tools = r.sample(BUILTIN_TOOLS, k=min(len(BUILTIN_TOOLS), r.randint(1, 2) + scale - 1))
            for i in range(r.randint(1, 2) * scale):
                self.bound[f"fetch_{r.choice(WORDS)}_{i}"] = [f"{r.choice(WORDS)}_id"]
            self.python_tools.append(f"compute_{r.choice(WORDS)}")
        self.all_tools = [*self.tools, *self.bound, *self.python_tools]  # every tool the section declares
        self.rule_tables: list[str] = []

    def lines(self) -> list[str]:
        r = self.rng
        out = ["---", f"id: generated-{self.index}", f"version: 1.{self.index % 7}.{self.index % 3}",
               f"status: {r.choice(('draft', 'review', 'approved'))}", f"owner: team-{r.choice(WORDS)}", "---",
               f"# Agent: Generated {r.choice(WORDS).title()} Agent {self.index}", "",
               "## Purpose", f"Answers questions about {_words(r, 3)} and explains {_words(r, 4)}.", ""]
        for name in self.order:
            out += getattr(self, "_" + name.lower().replace(" ", "_"))()
            out.append("")
        return out

    def _scope(self) -> list[str]:
        r = self.rng
        out = ["## Scope", "### In Scope"]
        out += [f"- ✅ {_words(r, 4).capitalize()}" for _ in range(2 * self.scale)]
        out.append("### Out of Scope")
        out += [f"- ❌ {_words(r, 4).capitalize()}" for _ in range(self.scale)]
        return out

    def _inputs(self) -> list[str]:
        return ["## Inputs"] + [f"- {f.name}: {f.type}{'?' if f.optional else ''} — the {_words(self.rng, 2)}" for f in self.inputs]

    def _outputs(self) -> list[str]:
        return ["## Outputs"] + [f"- {f.name}: {f.type}{'?' if f.optional else ''} — the {_words(self.rng, 3)}" for f in self.outputs]

    def _invariants(self) -> list[str]:
        r = self.rng
        out = ["## Invariants"]
        for i in range(r.randint(2, 4) * self.scale):
            verb = r.choice(("MUST", "MUST NOT", "SHOULD", "SHOULD NOT"))
            item = f"{i + 1}. **INV-{self.index % 1000:03d}{i:02d} {_words(r, 2).title()}:** {verb} {_words(r, 6)}."
            choice = i % 3
            if choice == 0:
                item += f" `check: {_expr(r, r.choice(self.required_outputs))}`"
            elif choice == 1:
                item += f" `check: {_run_fact(r, self.tools)}`"
            out.append(item)
        return out

    def _tools(self) -> list[str]:
        r = self.rng
        out = ["## Tools"]
        for t in self.tools:
            out.append(f"- {t} — {_words(r, 3)}{' (optional)' if r.random() < 0.3 else ''}")
        for name, (arg,) in self.bound.items():
            out.append(f"- {name} — look up the {_words(r, 2)} (http: GET https://api.example.com/{r.choice(WORDS)}/{{{arg}}})")
        for name in self.python_tools:
            out.append(f"- {name} — compute the {_words(r, 2)} (python: bench_tools.{r.choice(WORDS)}:run)")
        return out

    def _model(self) -> list[str]:
        r = self.rng
        return ["## Model", f"- task: {r.choice(TASKS)}", f"- tier: {r.choice(('free', 'pro', 'enterprise'))}",
                f"- max_cost_per_run: ${r.choice(('0.80', '0.90', '1.00'))}", f"- max_latency: {r.randint(5, 30)}s",
                f"- temperature: {r.randint(0, 10) / 10}", f"- max_tokens: {r.choice((512, 1024, 4096))}",
                f"- fallback: {r.choice(('local → perplexity → claude', 'local -> claude'))}"]

    def _workflow(self) -> list[str]:
        r = self.rng
        out = ["## Workflow"]
        steps: list[str] = []
        first_in = self.inputs[0].name
        n_llm = r.randint(2, 3) * self.scale
        for i in range(n_llm):
            s = f"{r.choice(('gather', 'draft', 'review', 'plan'))}_{r.choice(WORDS)}_{i}"
            steps.append(s)
            out += [f"### {s}", f"- llm: {r.choice(TASKS)}"]
            if self.all_tools and i % 2 == 0:
                out += [f"- tools: {', '.join(self.all_tools)}", f"- max_iterations: {r.randint(2, 5)}"]
            out += [f"- outputs: note_{i}", f"- prompt: Work on {{{first_in}}} and {_words(r, 5)}.", ""]
        if self.bound:
            tool, args = next(iter(self.bound.items()))
            s = f"call_{tool}"
            steps.append(s)
            out += [f"### {s}", f"- tool: {tool}", f"- args: {args[0]} = {first_in}", "- outputs: fetched", ""]
        finals = [f.name for f in self.outputs if f.name not in ("verdict", "verdict_reason")]
        s = "synthesize"
        steps.append(s)
        out += [f"### {s}", "- llm: complex_reasoning", f"- outputs: {', '.join(finals)}", "- prompt:", "```",
                f"Combine everything about {{{first_in}}} into the final answer.", f"Mention {_words(r, 4)}.", "```", ""]
        if "Rules" in self.sections and "Outputs" in self.sections:
            branch_a, branch_b = "decide", "fallback_answer"
            out += [f"### {branch_a}", "- rules: Decision", "- outputs: verdict, verdict_reason", ""]
        else:
            branch_a, branch_b = "polish", "fallback_answer"
            out += [f"### {branch_a}", "- llm: simple", "- outputs: polished", f"- prompt: Polish {{{first_in}}}.", ""]
        out += [f"### {branch_b}", "- llm: simple", "- outputs: fallback", f"- prompt: Say sorry about {{{first_in}}}.", ""]
        parallel = steps[:-1]
        out += ["### Flow", f"- START → {', '.join(parallel)}", f"- {', '.join(parallel)} → synthesize",
                f"- synthesize → {branch_a} when {_expr(r, r.choice(self.computed))}",
                f"- synthesize → {branch_b} otherwise", f"- {branch_a} → END", f"- {branch_b} → END"]
        return out

    def _rules(self) -> list[str]:
        r = self.rng
        out = ["## Rules", "### Decision"]
        for _ in range(r.randint(2, 4) * self.scale):
            f = r.choice(self.computed)
            verdict = r.choice(("KILL", "ITERATE"))
            out.append(f'- {verdict} when {_expr(r, f)}: "{_words(r, 3).capitalize()} ({{{f.name}}})"')
        out.append("- otherwise BUILD")
        return out

    def _examples(self) -> list[str]:
        r = self.rng
        out = ["## Examples"]
        for i in range(r.randint(1, 2) * self.scale):
            mark = "✅" if i % 2 == 0 else "❌"
            out += [f"### {mark} {_words(r, 3).capitalize()} {i}",
                    f"**Input:** {self.inputs[0].name}: {_words(r, 6)}" if "Inputs" in self.sections else f"**Input:** {_words(r, 6)}?",
                    f"**Expect:** {_expr(r, r.choice(self.required_outputs))}", ""]
        out += [f"### ✅ Transcript {self.index}", "```", f"User: {_words(r, 5)}?", f"Agent: {_words(r, 8)}.", "```"]
        return out

    def _success_criteria(self) -> list[str]:
        r = self.rng
        return ["## Success Criteria"] + [f"- [{r.choice(' x')}] {_words(r, 5).capitalize()}" for _ in range(2 * self.scale)]


def generate_spec(rng: random.Random, index: int, n_sections: int, scale: int = 1) -> str:
    """One spec with exactly `n_sections` H2 sections (Purpose plus n-1 others)."""
    others = rng.sample(OPTIONAL_SECTIONS, k=min(n_sections - 1, len(OPTIONAL_SECTIONS)))
    rng.shuffle(others)
    return "\n".join(SpecBuilder(rng, index, others, scale).lines()).rstrip() + "\n"


def generate_corpus(total_sections: int, seed: int = SEED) -> list[str]:
    """Specs of 1..11 sections (varied) whose H2 sections add up to exactly `total_sections`."""
    rng = random.Random(seed + total_sections)
    specs, left = [], total_sections
    while left:
        n = min(left, rng.randint(3, len(OPTIONAL_SECTIONS) + 1))
        specs.append(generate_spec(rng, len(specs), n))
        left -= n
    return specs


def generate_200_line_spec(seed: int = SEED, n_lines: int = 200) -> str:
    """A single spec with every section, at the largest scale that fits in `n_lines`, padded
    to exactly `n_lines` with success criteria (a handful of lines)."""
    rng = random.Random(seed)
    best: list[str] = []
    for scale in range(1, 20):
        lines = SpecBuilder(random.Random(seed), 200, list(OPTIONAL_SECTIONS), scale).lines()
        while lines and not lines[-1]:
            lines.pop()
        if len(lines) > n_lines:
            break
        best = lines
    while len(best) < n_lines:
        best.append(f"- [ ] {_words(rng, 5).capitalize()}")
    return "\n".join(best) + "\n"


# ---------------------------------------------------------------------------------------------
# Timing
# ---------------------------------------------------------------------------------------------

def spec_path(i: int) -> str:
    return str(SPEC_DIR / f"spec_{i:05d}.md")


# Warnings the generator draws on purpose; any other code means the generator or a pass changed.
EXPECTED_WARNINGS = {
    "W053": "each `python:` tool binding runs code",
    "W701": "a few specs' worst case exceeds their budget, every repair call counted",
}


def assert_clean(texts: list[str]) -> Counter[str]:
    """Exit when a generated spec has an error; returns how many of each warning code it drew."""
    warnings: Counter[str] = Counter()
    for i, text in enumerate(texts):
        result = check_text(text, spec_path(i))
        errors = [d for d in result.diagnostics if d.severity == Severity.ERROR]
        if errors or result.spec is None:
            listing = "\n".join(f"  {d.line}:{d.column} {d.code} {d.message}" for d in errors)
            numbered = "\n".join(f"{n + 1:4d} {line}" for n, line in enumerate(text.splitlines()))
            raise SystemExit(f"generated spec {i} does not check clean:\n{listing}\n{numbered}")
        warnings.update(d.code for d in result.diagnostics)
    return warnings


def describe_warnings(warnings: Counter[str]) -> str:
    """`W053 ×120 (why), ...`, flagging a code the generator is not expected to draw."""
    return "; ".join(f"{code} ×{n} ({EXPECTED_WARNINGS.get(code, 'NOT EXPECTED: look at it')})"
                     for code, n in sorted(warnings.items())) or "no warnings"


# The clock: process CPU time by default. The bench box is a shared 2-core machine where other
# jobs steal the CPU; wall-clock medians there swing 2-4x, CPU time of this process does not.
# `--wall` switches to `time.perf_counter` (use it on an idle machine).
CLOCK = time.process_time


def time_once(fn, texts: list[str]) -> float:
    gc.collect()
    start = CLOCK()
    for i, text in enumerate(texts):
        fn(text, i)
    return CLOCK() - start


def median_times(fns: list, texts: list[str], repeats: int) -> list[float]:
    """Median time of each of `fns` over `texts`, after one warm-up pass each. The functions
    are interleaved repeat by repeat so a slow patch of the machine hits them all alike."""
    for fn in fns:
        time_once(fn, texts)  # warm-up
    samples: list[list[float]] = [[] for _ in fns]
    for _ in range(repeats):
        for k, fn in enumerate(fns):
            samples[k].append(time_once(fn, texts))
    return [statistics.median(s) for s in samples]


def ours(text: str, i: int) -> None:
    check_text(text, spec_path(i))


def ours_parse(text: str, i: int) -> None:
    parse_text(text, spec_path(i))


_MD = MarkdownIt()


def baseline(text: str, i: int) -> None:
    _MD.parse(text)


def pass_shares(texts: list[str]) -> tuple[float, float, dict[str, float]]:
    """Check `texts` once with every pass timed: (parse seconds, pass seconds, per-pass seconds)."""
    from dataclasses import replace

    from agent_factory.compiler import PassManager

    manager = PassManager()
    spent: dict[str, float] = {}

    def timed(compiler_pass):
        def run(spec, ctx):
            start = CLOCK()
            try:
                return compiler_pass.run(spec, ctx)
            finally:
                spent[compiler_pass.name] = spent.get(compiler_pass.name, 0.0) + CLOCK() - start
        return replace(compiler_pass, run=run)

    manager._passes = [timed(p) for p in manager.passes()]
    for i, text in enumerate(texts[:20]):  # warm-up: imports, grammars, constitution cache
        check_text(text, spec_path(i), manager)
    spent.clear()
    parse_total = check_total = 0.0
    for i, text in enumerate(texts):
        start = CLOCK()
        parse_text(text, spec_path(i))
        parse_total += CLOCK() - start
        start = CLOCK()
        check_text(text, spec_path(i), manager)
        check_total += CLOCK() - start
    return parse_total, check_total - parse_total, spent


def report_passes(n_specs: int) -> None:
    texts = generate_corpus(n_specs * 8)[:n_specs]
    assert len(texts) == n_specs, f"generator made {len(texts)} specs, wanted {n_specs}"
    parse_s, passes_s, spent = pass_shares(texts)
    total = parse_s + passes_s
    print(f"\nall passes on {n_specs} specs: {n_specs / total:.1f} specs/s; parse {parse_s:.3f} s, "
          f"passes {passes_s:.3f} s = {passes_s / parse_s:.2f}x the parse (target <= 3x)")
    print(f"  {'pass':<14} {'seconds':>9} {'share of check':>15}")
    for name, seconds in sorted(spent.items(), key=lambda kv: -kv[1]):
        print(f"  {name:<14} {seconds:>9.4f} {seconds / total:>15.1%}")
    print(f"  {'(parse)':<14} {parse_s:>9.4f} {parse_s / total:>15.1%}")


def repeats_for(n_sections: int, quick: bool) -> int:
    if quick:
        return 3 if n_sections <= 1000 else 1
    return {1: 51, 100: 15, 1000: 7, 10000: 3}.get(n_sections, 3)


def machine() -> str:
    return (f"python {platform.python_version()} ({platform.python_implementation()}), "
            f"{platform.system()} {platform.machine()}, nproc={os.cpu_count()}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="smoke run: skip 10000 sections, fewer repeats")
    ap.add_argument("--wall", action="store_true", help="time with the wall clock instead of process CPU time")
    args = ap.parse_args(argv)
    global CLOCK
    if args.wall:
        CLOCK = time.perf_counter
    sizes = SIZES[:-1] if args.quick else SIZES

    print(f"# compiler bench — {machine()}")
    clock = "wall clock" if args.wall else "process CPU time"
    print(f"# seed {SEED}; {clock}; medians after a warm-up; ratio = check_text / markdown-it parse\n")
    header = f"{'sections':>8} {'specs':>6} {'lines':>7} {'specs/s':>9} {'sections/s':>11} {'µs/line':>8} {'check s':>9} {'md-it s':>8} {'ratio':>6} {'parse%':>7}"
    print(header)
    print("-" * len(header))
    per_section: dict[int, float] = {}
    warnings: Counter[str] = Counter()
    for n in sizes:
        texts = generate_corpus(n)
        warnings += assert_clean(texts)
        lines = sum(t.count("\n") for t in texts)
        reps = repeats_for(n, args.quick)
        t_ours, t_parse, t_md = median_times([ours, ours_parse, baseline], texts, reps)
        per_section[n] = t_ours / n
        print(f"{n:>8} {len(texts):>6} {lines:>7} {len(texts) / t_ours:>9.1f} {n / t_ours:>11.1f} "
              f"{t_ours / lines * 1e6:>8.1f} {t_ours:>9.4f} {t_md:>8.4f} {t_ours / t_md:>6.1f} {t_parse / t_ours:>7.0%}")

    print(f"(all generated specs check with no errors; {describe_warnings(warnings)})\n")
    spec200 = generate_200_line_spec()
    assert_clean([spec200])
    runs = 20 if args.quick else 60
    med, p_med, md_med = (t * 1e3 for t in median_times([ours, ours_parse, baseline], [spec200], runs))
    samples = []
    for _ in range(runs):
        start = CLOCK()
        check_text(spec200, spec_path(0))
        samples.append(CLOCK() - start)
    lines200 = spec200.count("\n")
    verdict = "PASS" if med < TARGET_MS_200 else "FAIL"
    print(f"200-line spec ({lines200} lines, {spec200.count(chr(10) + '## ')} sections), warm, median of {runs}:")
    print(f"  check_text   {med:7.2f} ms   (target < {TARGET_MS_200:.0f} ms: {verdict}; min {min(samples) * 1e3:.2f}, "
          f"max {max(samples) * 1e3:.2f})")
    print(f"  parse_text   {p_med:7.2f} ms   ({p_med / med:.0%} of check_text; passes {med - p_med:.2f} ms)")
    print(f"  markdown-it  {md_med:7.2f} ms   (ratio check/markdown-it {med / md_med:.1f}x)")
    report_passes(100 if args.quick else 1000)
    if 10000 in per_section and 100 in per_section:
        print(f"\nlinearity: time per section at 10000 / at 100 = {per_section[10000] / per_section[100]:.2f} "
              f"({per_section[10000] * 1e6:.0f} µs vs {per_section[100] * 1e6:.0f} µs; 1.00 = linear)")
    elif 1000 in per_section and 100 in per_section:
        print(f"\nlinearity (quick): time per section at 1000 / at 100 = {per_section[1000] / per_section[100]:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
