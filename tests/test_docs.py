"""The documentation is executable: every diagnostic code has a bad and a fixed example that
really behave as documented, and every complete spec in the language reference checks clean.

docs/diagnostics.md layout (one block per code, in the order of `CODES`):

    ### E022 unknown type            <- code and the exact title from CODES
    prose saying what it means
    **Bad:**                         <- then fenced blocks with info `markdown spec.md`
                                        (and optionally `markdown constitution.md`)
    **Output:**                      <- one ```text block: what `agent-factory check spec.md` prints
    **Fixed:**                       <- the same kinds of blocks as under **Bad:**

The output blocks are real CLI output. After changing a message, regenerate them with
`python tests/test_docs.py --update` and review the diff.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from click.testing import CliRunner

from agent_factory.cli import main
from agent_factory.compiler import CODES, Severity, check

ROOT = Path(__file__).resolve().parent.parent
DIAGNOSTICS_DOC = ROOT / "docs" / "diagnostics.md"
LANGUAGE_DOC = ROOT / "docs" / "spec-language.md"
# codes that a spec's text alone cannot cause (an unreadable file, two plugins registering one
# tool, two specs compiled to one output, a compiler bug); their sections are prose only
PROSE_ONLY = {"E001", "E209", "E802", "E900"}

_HEADING = re.compile(r"^### ([EW]\d{3}) (.+?)\s*$")
_LABEL = re.compile(r"^\*\*(Bad|Output|Fixed):\*\*\s*$")
_ALSO = re.compile(r"^\*\*Also reported:\*\*(.*)$")
_FENCE_OPEN = re.compile(r"^(`{3,}|~{3,})[ \t]*(.*?)\s*$")


@dataclass
class Fence:
    """A fenced code block: its info string, body and the line numbers of its fences."""

    info: str
    body: str
    start: int
    end: int


@dataclass
class Entry:
    """The documentation of one code."""

    code: str
    title: str
    line: int
    bad: dict[str, str] = field(default_factory=dict)
    fixed: dict[str, str] = field(default_factory=dict)
    output: Fence | None = None
    also: set[str] = field(default_factory=set)  # codes the bad example reports besides its own


def fences(lines: list[str]) -> list[Fence]:
    """Every fenced block of a Markdown document (a closing fence is the opening character
    repeated at least as often, as in CommonMark)."""
    out: list[Fence] = []
    index = 0
    while index < len(lines):
        match = _FENCE_OPEN.match(lines[index])
        if not match:
            index += 1
            continue
        marker = match.group(1)
        closing = re.compile("^" + re.escape(marker[0]) + "{" + str(len(marker)) + r",}\s*$")
        end = next((i for i in range(index + 1, len(lines)) if closing.match(lines[i])), len(lines))
        out.append(Fence(match.group(2), "\n".join(lines[index + 1 : end]) + "\n", index, end))
        index = end + 1
    return out


def entries(text: str | None = None) -> list[Entry]:
    """The per-code entries of docs/diagnostics.md, in document order."""
    lines = (text if text is not None else DIAGNOSTICS_DOC.read_text(encoding="utf-8")).split("\n")
    blocks = fences(lines)
    inside = {i for f in blocks for i in range(f.start, f.end + 1)}
    out: list[Entry] = []
    for number, line in enumerate(lines):
        if number in inside:
            continue
        heading = _HEADING.match(line)
        if heading:
            out.append(Entry(heading.group(1), heading.group(2), number))
        elif out and _ALSO.match(line):
            out[-1].also |= set(re.findall(r"[EW]\d{3}", _ALSO.match(line).group(1)))
    for block in blocks:
        entry = next((e for e in reversed(out) if e.line < block.start), None)
        if entry is None:
            continue
        label = _label_before(lines, block.start, entry.line, inside)
        info = block.info.split()
        if label in ("bad", "fixed") and len(info) == 2 and info[0] == "markdown":
            getattr(entry, label)[info[1]] = block.body
        elif label == "output" and info[:1] == ["text"]:
            entry.output = block
    return out


def _label_before(lines: list[str], start: int, floor: int, inside: set[int]) -> str | None:
    for number in range(start - 1, floor, -1):
        if number in inside:
            continue
        match = _LABEL.match(lines[number])
        if match:
            return match.group(1).lower()
    return None


def write(folder: Path, files: dict[str, str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, body in files.items():
        (folder / name).write_text(body, encoding="utf-8")
    return folder / "spec.md"


def cli_output(folder: Path) -> str:
    """What `agent-factory check spec.md` prints (stdout, then the stderr summary) run in `folder`."""
    import os

    previous = Path.cwd()
    os.chdir(folder)
    try:
        result = CliRunner().invoke(main, ["check", "spec.md"], catch_exceptions=False)
    finally:
        os.chdir(previous)
    return result.output


def codes_of(path: Path) -> list[str]:
    return [d.code for d in check(path).diagnostics]


# ------------------------------------------------------------------------- tests

DOCUMENTED = [e for e in entries() if e.code not in PROSE_ONLY] if DIAGNOSTICS_DOC.exists() else []


def test_every_code_is_documented_once_in_order():
    documented = [(e.code, e.title) for e in entries()]
    assert [code for code, _ in documented] == list(CODES)
    assert set(code for code, _ in documented) == set(CODES)


@pytest.mark.parametrize("entry", entries(), ids=lambda e: e.code)
def test_heading_uses_the_exact_title(entry):
    assert entry.title == CODES[entry.code][1]


@pytest.mark.parametrize("entry", DOCUMENTED, ids=lambda e: e.code)
def test_bad_example_reports_its_code_and_no_other(entry, tmp_path):
    assert "spec.md" in entry.bad, f"{entry.code}: no ```markdown spec.md block under **Bad:**"
    codes = codes_of(write(tmp_path, entry.bad))
    assert entry.code in codes, f"{entry.code}: the bad example reports {codes}"
    assert set(codes) - {entry.code} <= entry.also, f"{entry.code}: the bad example also reports {codes}"


@pytest.mark.parametrize("entry", DOCUMENTED, ids=lambda e: e.code)
def test_fixed_example_is_clean(entry, tmp_path):
    assert "spec.md" in entry.fixed, f"{entry.code}: no ```markdown spec.md block under **Fixed:**"
    diagnostics = check(write(tmp_path, entry.fixed)).diagnostics
    assert entry.code not in [d.code for d in diagnostics]
    assert not [d for d in diagnostics if d.severity is Severity.ERROR], diagnostics


@pytest.mark.parametrize("entry", DOCUMENTED, ids=lambda e: e.code)
def test_output_block_is_the_real_cli_output(entry, tmp_path):
    assert entry.output is not None, f"{entry.code}: no ```text block under **Output:**"
    assert entry.output.body == cli_output(write(tmp_path, entry.bad).parent), (
        "stale output block: run `python tests/test_docs.py --update`"
    )


def test_prose_only_codes_have_no_snippets():
    for entry in entries():
        if entry.code in PROSE_ONLY:
            assert not entry.bad and not entry.fixed and entry.output is None


def language_examples() -> list[Fence]:
    lines = LANGUAGE_DOC.read_text(encoding="utf-8").split("\n")
    return [f for f in fences(lines) if f.info.split() == ["markdown", "spec"]]


def test_language_reference_has_complete_examples():
    assert len(language_examples()) >= 5


@pytest.mark.parametrize("fence", language_examples() if LANGUAGE_DOC.exists() else [], ids=lambda f: f"line{f.start + 1}")
def test_language_reference_examples_check_clean(fence, tmp_path):
    result = check(write(tmp_path, {"spec.md": fence.body}))
    assert result.diagnostics == [], [f"{d.code} {d.message}" for d in result.diagnostics]


# ------------------------------------------------------------------------- regeneration

def update(tmp: Path) -> int:
    """Rewrite every **Output:** block of docs/diagnostics.md with the real CLI output."""
    lines = DIAGNOSTICS_DOC.read_text(encoding="utf-8").split("\n")
    changed = 0
    for index, entry in reversed(list(enumerate(entries()))):
        if entry.code in PROSE_ONLY or not entry.bad or entry.output is None:
            continue
        output = cli_output(write(tmp / f"{index}-{entry.code}", entry.bad).parent)
        body = output.rstrip("\n").split("\n")
        if lines[entry.output.start + 1 : entry.output.end] != body:
            lines[entry.output.start + 1 : entry.output.end] = body
            changed += 1
    DIAGNOSTICS_DOC.write_text("\n".join(lines), encoding="utf-8")
    return changed


if __name__ == "__main__":  # pragma: no cover - maintenance entry point
    import tempfile

    if sys.argv[1:] != ["--update"]:
        sys.exit("usage: python tests/test_docs.py --update")
    with tempfile.TemporaryDirectory() as folder:
        print(f"updated {update(Path(folder))} output blocks in {DIAGNOSTICS_DOC}")
