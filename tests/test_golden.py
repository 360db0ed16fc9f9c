"""Golden tests: every `golden/<case>/spec.md` is checked and its outputs compared byte for byte.

Each case folder holds `spec.md` (plus any sibling files it needs, such as its own
`constitution.md`), `diagnostics.txt` (the text rendering of every diagnostic; empty when the
case is clean) and, for cases that produce IR, `ir.json` (the `ir` backend's output).
Run `pytest tests/test_golden.py --update-golden` to rewrite the expectations, then review the diff.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from agent_factory.compiler import CODES, check, emit
from agent_factory.compiler.render import render_text

ROOT = Path(__file__).resolve().parents[1]
GOLDEN = ROOT / "golden"
CASES = sorted(path.parent.name for path in GOLDEN.glob("*/spec.md"))
# Codes no spec file can trigger with the default plugins: E900 is an internal compiler error (never caused
# on purpose), E209 needs two installed plugins registering one tool name and E802 two specs compiled
# together (unit tests cover both).
UNTRIGGERABLE = {"E900", "E209", "E802"}
_HEADER = re.compile(r"^\S+:\d+:\d+: (?:error|warning|note)\[([A-Z]\d{3})\]: ", re.MULTILINE)


@pytest.fixture
def at_repo_root(monkeypatch: pytest.MonkeyPatch) -> Path:
    """Paths in the outputs are relative to the repository root (`golden/<case>/spec.md`)."""
    monkeypatch.chdir(ROOT)
    return ROOT


def actual_outputs(case: str) -> dict[str, str]:
    result = check(f"golden/{case}/spec.md")
    outputs = {"diagnostics.txt": render_text(result.diagnostics)}
    if result.ok:
        (outputs["ir.json"],) = emit(result.spec, "ir").values()
    return outputs


@pytest.mark.parametrize("case", CASES)
def test_golden_case(case: str, at_repo_root: Path, request: pytest.FixtureRequest) -> None:
    folder = GOLDEN / case
    outputs = actual_outputs(case)
    if request.config.getoption("--update-golden"):
        for name in ("diagnostics.txt", "ir.json"):
            target = folder / name
            if name in outputs:
                target.write_bytes(outputs[name].encode("utf-8"))
            elif target.exists():
                target.unlink()
        return
    for name in ("diagnostics.txt", "ir.json"):
        target = folder / name
        if name not in outputs:
            assert not target.exists(), f"{case}: the spec no longer produces IR but {name} is expected"
            continue
        assert target.exists(), f"{case}: {name} is missing; run pytest with --update-golden and review it"
        assert outputs[name] == target.read_bytes().decode("utf-8"), f"{case}: {name} differs from the golden file"


def test_golden_has_enough_cases_of_both_kinds() -> None:
    invalid = [case for case in CASES if case.startswith("invalid_")]
    assert len(CASES) >= 45
    assert len(invalid) * 3 >= len(CASES)


def test_every_case_is_named_by_its_outcome() -> None:
    assert [c for c in CASES if not c.startswith(("valid_", "invalid_", "warning_"))] == []
    for case in CASES:
        has_ir = (GOLDEN / case / "ir.json").exists()
        assert has_ir is (not case.startswith("invalid_")), f"{case}: name and outcome disagree"
        diagnostics = (GOLDEN / case / "diagnostics.txt").read_text(encoding="utf-8")
        if case.startswith("valid_"):
            assert diagnostics == "", f"{case}: a valid case must check clean"
        else:
            assert diagnostics != "", f"{case}: an invalid or warning case must report something"


def test_no_constitution_above_the_golden_cases() -> None:
    # Constitution discovery walks up from each case folder; one at golden/ or the repo root
    # would silently apply to every case.
    for folder in (GOLDEN, ROOT, *ROOT.parents):
        assert not (folder / "constitution.md").exists(), f"{folder / 'constitution.md'} would apply to every golden case"


def _codes_in_golden() -> set[str]:
    found: set[str] = set()
    for case in CASES:
        path = GOLDEN / case / "diagnostics.txt"
        if path.exists():
            found.update(_HEADER.findall(path.read_text(encoding="utf-8")))
    return found


def test_every_diagnostic_code_has_a_golden_case() -> None:
    missing = sorted(set(CODES) - UNTRIGGERABLE - _codes_in_golden())
    assert missing == [], f"codes without a golden case: {', '.join(missing)}"


def test_golden_cases_use_only_catalogued_codes() -> None:
    assert sorted(_codes_in_golden() - set(CODES)) == []
