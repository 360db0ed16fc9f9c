"""The command line: exit codes, output formats, scaffolding."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from agent_factory.cli import main

ROOT = Path(__file__).resolve().parent.parent


def shown(path: Path) -> Path:
    """How `compile` names a spec file: relative to the working folder when inside it."""
    from agent_factory.cli.check import _canonical

    return _canonical(path)


def run(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_shipped_specs_check_clean():
    result = run("check", str(ROOT / "specs"))
    assert result.exit_code == 0, result.output
    assert result.output.endswith("checked 7 files: 0 errors, 0 warnings\n")


def test_missing_path_is_a_usage_error():
    result = run("check", "no/such/spec.md")
    assert result.exit_code == 2
    assert result.output == "error: no such file or folder: no/such/spec.md\n"


def test_new_scaffolds_specs_that_check_clean(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for kind, name in (("agent", "Market Research"), ("component", "Webhook Signer"), ("team", "Help Desk")):
        created = run("new", name, "--kind", kind)
        assert created.exit_code == 0, created.output
    for path in sorted(tmp_path.glob("*.md")):
        checked = run("check", str(path))
        assert checked.exit_code == 0, checked.output
    again = run("new", "Market Research")
    assert again.exit_code == 2
    assert again.output == "error: market_research.md already exists; choose another name or --output\n"


def test_new_names_files_in_ascii_and_gives_a_team_its_own_member(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "general.md").write_text("# Component: Someone else's\n", encoding="utf-8")
    assert run("new", "Ünïcode Name!").output == "wrote unicode_name.md; check it with: agent-factory check unicode_name.md\n"
    team = run("new", "Help Desk", "--kind", "team")
    assert team.output.splitlines() == ["wrote help_desk.md; check it with: agent-factory check help_desk.md",
                                        "wrote help_desk_general.md (the team's first member)"]
    assert "- general: help_desk_general.md — routes: help, question" in (tmp_path / "help_desk.md").read_text()
    assert run("check", "help_desk.md").exit_code == 0


def test_json_format_lists_every_field(tmp_path):
    spec = tmp_path / "x.md"
    spec.write_text("# Agent: X\n\n## Purpose\nTest.\n\n## Outputs\n- answer: strng\n", encoding="utf-8")
    result = run("check", str(spec), "--format", "json")
    assert result.exit_code == 1
    assert json.loads(result.stdout) == [{
        "code": "E022", "severity": "error", "message": "unknown type `strng`", "file": str(spec),
        "line": 7, "column": 11, "end_line": 7, "end_column": 16, "hint": "did you mean `str`?",
    }]


def test_compile_ir_is_deterministic_and_check_detects_edits(tmp_path):
    out = tmp_path / "out"
    first = run("compile", str(ROOT / "specs" / "brain_fart_checker.md"), "-o", str(out))
    assert first.exit_code == 0, first.output
    produced = out / "brain_fart_checker.ir.json"
    before = produced.read_bytes()
    assert run("compile", str(ROOT / "specs" / "brain_fart_checker.md"), "-o", str(out)).exit_code == 0
    assert produced.read_bytes() == before
    assert run("compile", str(ROOT / "specs" / "brain_fart_checker.md"), "-o", str(out), "--check").exit_code == 0
    produced.write_text(before.decode().replace("Brain Fart", "Brain Fog"), encoding="utf-8")
    stale = run("compile", str(ROOT / "specs" / "brain_fart_checker.md"), "-o", str(out), "--check")
    assert stale.exit_code == 1
    assert f"stale or edited by hand: {produced} (run `agent-factory compile` to regenerate)" in stale.output


def test_unknown_target_is_a_usage_error():
    result = run("compile", str(ROOT / "specs"), "--target", "cobol")
    assert result.exit_code == 2
    assert result.output.startswith("error: unknown target `cobol`; available: ")


def test_compiling_a_folder_skips_kinds_the_target_does_not_compile(tmp_path):
    result = run("compile", str(ROOT / "specs"), "--target", "langgraph", "-o", str(tmp_path))
    assert result.exit_code == 0, result.output
    assert f"skipped {shown(ROOT / 'specs' / 'constitution.md')}: the `langgraph` target does not compile a constitution" in result.output
    assert f"skipped {shown(ROOT / 'specs' / 'webhook_signer.md')}: the `langgraph` target does not compile a component" in result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "agent-factory.toml", "billing", "brain_fart_checker", "langgraph.json", "market_research", "support_desk",
        "tech_support"]


def test_naming_a_file_the_target_cannot_compile_is_an_error(tmp_path):
    result = run("compile", str(ROOT / "specs" / "webhook_signer.md"), "--target", "langgraph", "-o", str(tmp_path))
    assert result.exit_code == 1
    assert "error[E801]: target `langgraph` does not support component" in result.output


def test_openhands_compiles_agents_from_a_folder_only_when_they_ask_for_it(tmp_path):
    result = run("compile", str(ROOT / "specs"), "--target", "openhands", "-o", str(tmp_path))
    assert result.exit_code == 0, result.output
    assert (f"skipped {shown(ROOT / 'specs' / 'billing.md')}: an agent compiles to `openhands` only when its front matter "
            "says `target: openhands`") in result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["webhook-signer"]


def test_every_registered_command_loads_under_its_own_name():
    import click

    from agent_factory.cli import COMMANDS

    context = click.Context(main)
    assert main.list_commands(context) == sorted(COMMANDS)
    for name in COMMANDS:
        command = main.get_command(context, name)
        assert isinstance(command, click.Command) and command.name == name


def test_version_imports_no_command_module():
    import subprocess
    import sys

    probe = ("import sys\nfrom agent_factory.cli import main\ntry:\n    main(['--version'])\nexcept SystemExit:\n    pass\n"
             "print(sorted(m for m in sys.modules if m.startswith('agent_factory')))")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True)
    assert done.stdout.splitlines() == [
        "agent-factory, version 0.1.0",
        "['agent_factory', 'agent_factory.cli', 'agent_factory.cli.exit', 'agent_factory.cli.lazy']",
    ]


def test_compiling_two_specs_with_one_file_name_refuses_the_second(tmp_path):
    for folder in ("a", "b"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "x.md").write_text(f"# Agent: {folder.upper()}\n\n## Purpose\nAnswers.\n", encoding="utf-8")
    out = tmp_path / "out"
    first, second = tmp_path / "a" / "x.md", tmp_path / "b" / "x.md"
    result = run("compile", str(first), str(second), "-o", str(out))
    assert result.exit_code == 1
    assert result.stdout.splitlines()[0] == (
        f"{second}:1:1: error[E802]: `{second}` compiles to `{out / 'x.ir.json'}`, which `{first}` already wrote; "
        f"`{second}` was not written")
    assert json.loads((out / "x.ir.json").read_text(encoding="utf-8"))["spec"]["name"] == "A"


def test_check_imports_no_llm_graph_or_template_library(tmp_path):
    import os
    import subprocess
    import sys

    # Lark's parsers are generated into the compiler (lark_standalone.py): neither lark nor regex is needed;
    # the compiler's data and ToolSpec are plain records, the configuration is read through its validated view,
    # the installed plugins' entry points come from the user cache, whose folder on Linux needs no platformdirs
    heavy = ('litellm', 'langgraph', 'jinja2', 'agent_factory.codegen', 'asyncio', 'ssl', 'httpx', 'mcp', 'lark', 'regex',
             'pydantic', 'importlib.metadata', 'platformdirs')
    # specs/billing.md binds a tool to HTTP: building its binding must not load the fetcher
    specs = [str(ROOT / "specs" / "market_research.md"), str(ROOT / "specs" / "billing.md")]
    probe = (f"import sys\nfrom agent_factory.cli import main\ntry:\n    main(['check', *{specs!r}])\n"
             "except SystemExit as done:\n    code = done.code\n"
             f"print(code, sorted(m for m in {heavy!r} if m in sys.modules))\n"
             "print(sorted(m for m in sys.modules if m.startswith('agent_factory.runtime')))")
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache")}
    work = tmp_path / "work"  # on sys.path (`-c`), so nothing else may change it between the two checks
    work.mkdir()
    # the first check validates the defaults and scans the entry points, keeping both; the second reads them
    for _ in range(2):
        done = subprocess.run([sys.executable, "-c", probe], cwd=work, env=env, capture_output=True, text=True,
                              timeout=120, check=True)
    assert done.stdout.splitlines()[-2:] == [
        "0 []",
        # the router configuration's view (for the cost estimate) and the built-in tools' table, nothing that runs them
        "['agent_factory.runtime', 'agent_factory.runtime.config_view', 'agent_factory.runtime.generated', "
        "'agent_factory.runtime.tools', 'agent_factory.runtime.tools.bindings', 'agent_factory.runtime.tools.builtin', "
        "'agent_factory.runtime.tools.http_binding', 'agent_factory.runtime.tools.model', "
        "'agent_factory.runtime.tools.schema']",
    ]


def test_check_reports_each_file_as_it_finishes_with_one_blank_line_between_diagnostics(tmp_path):
    for name in ("a", "b"):
        (tmp_path / f"{name}.md").write_text("# Agent: X\n\n## Purpose\nTest.\n\n## Outputs\n- answer: strng\n",
                                             encoding="utf-8")
    result = run("check", str(tmp_path))
    assert result.exit_code == 1
    blocks = result.stdout.rstrip("\n").split("\n\n")
    assert [block.splitlines()[0] for block in blocks] == [
        f"{tmp_path / 'a.md'}:7:11: error[E022]: unknown type `strng`",
        f"{tmp_path / 'b.md'}:7:11: error[E022]: unknown type `strng`",
    ]
    assert result.stdout.endswith("  help: did you mean `str`?\n\n")


def test_no_color_turns_colour_off_on_a_terminal(monkeypatch):
    from agent_factory.cli import report

    monkeypatch.setattr(report.sys.stdout, "isatty", lambda: True, raising=False)
    monkeypatch.setenv("NO_COLOR", "1")
    assert report.use_color() is False
    monkeypatch.delenv("NO_COLOR")
    assert report.use_color() is True


def test_compile_check_does_not_depend_on_how_the_spec_path_is_spelled(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "specs").mkdir()
    (tmp_path / "specs" / "x.md").write_text("# Agent: X\n\n## Purpose\nAnswers.\n", encoding="utf-8")
    assert run("compile", "specs/x.md", "-o", "out").exit_code == 0
    for spelling in ("./specs/x.md", str(tmp_path / "specs" / "x.md"), "specs"):
        again = run("compile", spelling, "-o", "out", "--check")
        assert again.exit_code == 0, (spelling, again.output)


NOTE_CHECK = (
    "note: specs/agent-factory.toml is not used: check reads agent-factory.toml from the working folder only, never "
    "from beside a spec\n"
    "  (a spec's folder may hold files from anyone, and a configuration runs with your permissions);\n"
    "  this check uses {used}: run `agent-factory check` from specs/ to use that file\n"
)
NOTE_RUN = (
    "note: specs/agent-factory.toml is not used: run reads agent-factory.toml from --config FILE or the working "
    "folder, never from beside a spec\n"
    "  (a spec's folder may hold files from anyone, and a configuration runs with your permissions);\n"
    "  this run uses {used}: pass --config specs/agent-factory.toml to use that file\n"
)


def specs_with_a_config_beside(tmp_path: Path, monkeypatch) -> Path:
    monkeypatch.chdir(tmp_path)
    specs = tmp_path / "specs"
    specs.mkdir()
    for name in ("a", "b"):
        (specs / f"{name}.md").write_text("# Agent: X\n\n## Purpose\nAnswers.\n", encoding="utf-8")
    (specs / "agent-factory.toml").write_text('[tools]\nallow_python = ["tools"]\n', encoding="utf-8")
    return specs


def test_check_names_a_configuration_beside_the_specs_once_and_says_it_is_not_used(tmp_path, monkeypatch):
    specs_with_a_config_beside(tmp_path, monkeypatch)
    result = run("check", "specs", "specs/a.md")
    assert result.exit_code == 0
    assert result.stderr == NOTE_CHECK.format(used="the built-in defaults") + "checked 2 files: 0 errors, 0 warnings\n"


def test_check_says_which_configuration_it_uses_instead(tmp_path, monkeypatch):
    specs_with_a_config_beside(tmp_path, monkeypatch)
    (tmp_path / "agent-factory.toml").write_text("[tools]\n", encoding="utf-8")
    result = run("check", "specs/a.md")
    assert result.stderr == NOTE_CHECK.format(used="agent-factory.toml") + "checked 1 file: 0 errors, 0 warnings\n"


def test_a_configuration_in_the_working_folder_beside_the_spec_is_the_one_used_so_no_note(tmp_path, monkeypatch):
    specs = specs_with_a_config_beside(tmp_path, monkeypatch)
    monkeypatch.chdir(specs)
    result = run("check", "a.md")
    # no "is not used" note; the file's trusted power is named, as for every working-folder configuration
    assert result.stderr == (f"note: using {specs / 'agent-factory.toml'} from the working folder; it\n"
                             "  - lets python: bindings run tools\n"
                             "  a configuration runs with your permissions: pass --config to choose one explicitly\n"
                             "checked 1 file: 0 errors, 0 warnings\n")


def test_run_names_a_configuration_beside_the_spec_unless_it_is_the_one_named(tmp_path, monkeypatch):
    specs_with_a_config_beside(tmp_path, monkeypatch)
    (tmp_path / "cassettes").mkdir()
    result = run("run", "specs/a.md", "--input", "hi", "--replay", "cassettes")
    assert result.stderr.startswith(NOTE_RUN.format(used="the built-in defaults") + "running specs/a.md\n")
    named = run("run", "specs/b.md", "--input", "hi", "--replay", "cassettes", "--config", "specs/agent-factory.toml")
    assert named.stderr.startswith("running specs/b.md\n")
    assert "agent-factory.toml is not used" not in named.stderr
