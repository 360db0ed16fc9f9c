"""The shared examples (the language contract's own specs) check clean, and the four "done when"
error cases of the issue report the right line, column and hint, rendered in full."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from agent_factory.cli import main
from agent_factory.compiler import check

SHARED = Path(__file__).resolve().parents[2] / "shared" / "examples"
needs_shared = pytest.mark.skipif(not SHARED.is_dir(), reason=f"the shared examples folder {SHARED} does not exist")
EXAMPLES = sorted(SHARED.glob("*.md")) if SHARED.is_dir() else []

PURPOSE = "# Agent: {name}\n\n## Purpose\nAnswers questions.\n\n"


@needs_shared
@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_shared_example_checks_clean(path: Path) -> None:
    result = check(path)
    assert result.diagnostics == []
    assert result.ok


@needs_shared
def test_shared_examples_folder_checks_clean_from_the_cli() -> None:
    result = CliRunner().invoke(main, ["check", str(SHARED)])
    assert result.exit_code == 0
    assert result.stdout == ""
    assert result.stderr == f"checked {len(EXAMPLES)} files: 0 errors, 0 warnings\n"


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A scratch folder as the working directory, so printed paths are short and stable."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


def run_check(workdir: Path, name: str, text: str):
    (workdir / name).write_text(text, encoding="utf-8")
    return CliRunner().invoke(main, ["check", name])


def test_typo_in_section_name_warns_with_did_you_mean(workdir: Path) -> None:
    result = run_check(workdir, "typo.md", PURPOSE.format(name="Typo") + "## Tols\n- web_search\n")
    assert result.exit_code == 0
    assert result.stdout == (
        "typo.md:6:4: warning[W012]: unknown section `Tols` is kept as notes\n"
        " 6 | ## Tols\n"
        "   |    ^^^^\n"
        "  help: did you mean `Tools`?\n"
        "\n"
    )
    assert result.stderr == "checked 1 file: 0 errors, 1 warning\n"


def test_bad_type_is_an_error_with_did_you_mean(workdir: Path) -> None:
    result = run_check(workdir, "bad_type.md", PURPOSE.format(name="Bad Type") + "## Outputs\n- answer: strng — the answer\n")
    assert result.exit_code == 1
    assert result.stdout == (
        "bad_type.md:7:11: error[E022]: unknown type `strng`\n"
        " 7 | - answer: strng — the answer\n"
        "   |           ^^^^^\n"
        "  help: did you mean `str`?\n"
        "\n"
    )
    assert result.stderr == "checked 1 file: 1 error, 0 warnings\n"


def test_bad_money_literal_is_an_error_showing_the_fix(workdir: Path) -> None:
    result = run_check(workdir, "bad_money.md", PURPOSE.format(name="Bad Money") + "## Model\n- max_cost_per_run: 0.05\n")
    assert result.exit_code == 1
    assert result.stdout == (
        "bad_money.md:7:21: error[E030]: max_cost_per_run: `0.05` is not a money amount\n"
        " 7 | - max_cost_per_run: 0.05\n"
        "   |                     ^^^^\n"
        "  help: write `$0.05`: amounts are in US dollars with a leading `$` and no separators\n"
        "\n"
    )


@needs_shared
def test_loosened_constitution_limit_is_an_error_naming_both_lines(workdir: Path) -> None:
    shutil.copy(SHARED / "constitution.md", workdir / "constitution.md")
    ceiling_line = next(i for i, line in enumerate((workdir / "constitution.md").read_text().split("\n"), 1)
                        if line == "- max_cost_per_run: $1.00")
    assert ceiling_line == 13
    result = run_check(workdir, "loose.md", PURPOSE.format(name="Loose") + "## Model\n- max_cost_per_run: $2.00\n")
    assert result.exit_code == 1
    assert result.stdout == (
        "loose.md:7:21: error[E500]: max_cost_per_run $2.00 is above the constitution's ceiling of $1.00 (constitution.md:13)\n"
        " 7 | - max_cost_per_run: $2.00\n"
        "   |                     ^^^^^\n"
        "  help: a spec may tighten its constitution, never loosen it: lower it to $1.00 or less\n"
        "  note: the constitution's limit is set here: constitution.md:13:21\n"
        "\n"
    )
