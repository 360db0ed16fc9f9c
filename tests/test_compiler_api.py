"""The compiler's public functions and the pass manager."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from agent_factory.compiler import Pass, PassManager, check, check_text, hookimpl, parse_text
from agent_factory.compiler.render import render_text

ROOT = Path(__file__).resolve().parent.parent


class ExplodingPlugin:
    @hookimpl
    def af_register_passes(self):
        def explode(spec, ctx):
            raise ValueError("boom")

        return [Pass(name="explode", stage="validate", run=explode)]


def test_a_crashing_pass_becomes_an_internal_error_diagnostic():
    result = check_text("# Agent: X\n\n## Purpose\nTest.\n", "x.md", PassManager([ExplodingPlugin()]))
    assert result.spec is None
    [diag] = result.diagnostics
    assert diag.code == "E900"
    assert diag.message.startswith(
        "internal compiler error in the `explode` pass while compiling this spec: ValueError: boom (at test_compiler_api.py:"
    )
    assert diag.hint == "this is a bug in agent-factory 0.1.0; please report it with the spec that triggers it"


def test_syntax_errors_do_not_hide_structure_errors():
    text = "# Agent: X\n\n## Purpose\nTest.\n\n## Inputs\n- count int\n- q: strng\n"
    result = check_text(text, "x.md")
    assert [(d.code, d.span.line, d.span.column) for d in result.diagnostics] == [("E020", 7, 9), ("E022", 8, 6)]


def test_missing_title_is_reported_and_nothing_else_is_built():
    result = parse_text("## Purpose\nNo title.\n", "x.md")
    assert result.spec is None
    assert render_text(result.diagnostics, source=lambda _: ["## Purpose", "No title."]) == (
        "x.md:1:1: error[E005]: the spec has no title saying what it is\n"
        " 1 | ## Purpose\n"
        "   | ^\n"
        "  help: start the document with a title such as `# Agent: Market Research`\n"
    )


def test_unreadable_file_is_e001(tmp_path):
    path = tmp_path / "latin1.md"
    path.write_bytes("# Agent: Caf\xe9\n".encode("latin-1"))
    [diag] = check(path).diagnostics
    assert (diag.code, diag.message) == ("E001", f"`{path}` is not UTF-8 (invalid byte 0xe9)")


def test_spec_inherits_constitution_ceilings_and_invariants():
    result = check(ROOT / "specs" / "tech_support.md")
    spec = result.spec
    assert result.ok
    assert spec.constitution.path.endswith("specs/constitution.md")
    assert str(spec.model.max_cost_per_run) == "0.02"
    assert spec.model.fallback == ("local", "perplexity", "claude")
    assert [i.id for i in spec.invariants] == ["CON-001", "CON-002", "CON-003", "CON-004"]
    assert {i.origin for i in spec.invariants} == {spec.constitution.path}


def test_hook_tracing_env_var_writes_hook_calls_to_stderr():
    code = "from agent_factory.compiler import check; check('specs/billing.md')"
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                          env={"AGENT_FACTORY_TRACE_HOOKS": "1", "PATH": "/usr/bin:/bin"}, check=True)
    assert "af_register_passes" in proc.stderr
    assert "af_find_constitution" in proc.stderr
