"""The generated parsers (`agent_factory/compiler/lark_standalone.py`) are those of the grammars."""

from __future__ import annotations

import runpy
from itertools import zip_longest
from pathlib import Path

from agent_factory.compiler import lark_standalone

ROOT = Path(__file__).resolve().parents[1]
GRAMMARS = ROOT / "agent_factory" / "compiler" / "grammar"


def test_the_generated_module_is_what_the_generator_writes_from_the_grammars():
    # fails after any edit of a .lark file, of the module, or of Lark's version, until
    # scripts/generate_parsers.py is run again
    generated = runpy.run_path(str(ROOT / "scripts" / "generate_parsers.py"))["generate"]().splitlines()
    current = (ROOT / "agent_factory" / "compiler" / "lark_standalone.py").read_text(encoding="utf-8").splitlines()
    differing = [n for n, (a, b) in enumerate(zip_longest(current, generated), 1) if a != b]
    assert differing == [], f"lark_standalone.py differs from line {differing[:1]}: run scripts/generate_parsers.py"


def test_every_grammar_file_has_its_tables():
    assert sorted(lark_standalone.DATA) == sorted(path.stem for path in GRAMMARS.glob("*.lark"))
