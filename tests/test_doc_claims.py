"""The pages that make promises are held to their word: every claim names the test that holds it,
and every test a page names exists.

A page listed in `PAGES` follows one convention, stated at its top:

- a *claim* is a paragraph, a list item (with its continuation lines) or a table, outside code
  blocks, in any `##` section the page does not exempt;
- a claim names at least one test as `` `tests/…/test_x.py::test_name` ``, in its own text or in a
  paragraph starting `Tests:` right after it (the usual place after a table);
- not a claim: headings, code blocks, and a paragraph starting `Note:` (a limitation or context,
  no promise). A paragraph that leads into a list or table is a claim like any other: name its
  tests inline, before its colon.
"""

from __future__ import annotations

import ast
import functools
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# each page and the sections of it that state policy rather than behaviour
PAGES = {
    "docs/security.md": {"Who is trusted"},
    "docs/tools.md": set(),
    "docs/running.md": set(),
}
_REFERENCE = re.compile(r"`(tests/[\w/]+\.py)::(test_\w+)`")
_ITEM = re.compile(r"^(- |\d+\. )")


@dataclass
class Block:
    """A paragraph, list item or table of a page: its section, first line number and text."""

    section: str
    line: int
    kind: str  # "paragraph", "item" or "table"
    text: str

    def add(self, line: str) -> None:
        self.text += ("\n" if self.kind == "table" else " ") + line.strip()


def blocks(path: str) -> list[Block]:
    """The blocks of a page in order, code blocks and headings left out."""
    out: list[Block] = []
    section, fence, current = "", "", None
    for number, line in enumerate((ROOT / path).read_text(encoding="utf-8").splitlines(), 1):
        stripped = line.strip()
        if fence or stripped.startswith("```"):
            fence = "" if fence and stripped.startswith(fence) else (fence or stripped[:3])
            current = None
        elif line.startswith("#"):
            section = line.lstrip("#").strip() if line.startswith("## ") else section
            current = None
        elif not stripped:
            current = None
        elif _ITEM.match(line):
            current = Block(section, number, "item", _ITEM.sub("", line))
            out.append(current)
        elif current and not (current.kind == "table") ^ stripped.startswith("|"):
            current.add(line)
        else:
            current = Block(section, number, "table" if stripped.startswith("|") else "paragraph", stripped)
            out.append(current)
    return out


def claims(path: str) -> list[Block]:
    """The blocks of a page that make a claim, each with the `Tests:` paragraph after it joined in."""
    out: list[Block] = []
    for block in blocks(path):
        if block.section in PAGES[path] or block.text.startswith("Note:"):
            continue
        if block.text.startswith("Tests:") and out:
            out[-1].text += " " + block.text
        else:
            out.append(Block(block.section, block.line, block.kind, block.text))
    return out


@functools.cache
def _tests_in(path: str) -> frozenset[str]:
    tree = ast.parse((ROOT / path).read_text(encoding="utf-8"))
    return frozenset(
        node.name for node in ast.walk(tree) if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
    )


_CLAIMS = [(page, claim) for page in PAGES for claim in claims(page)]


@pytest.mark.parametrize("page", PAGES)
def test_the_page_makes_claims(page):
    assert len(claims(page)) >= 30


@pytest.mark.parametrize(
    ("page", "claim"), _CLAIMS, ids=[f"{page}:{claim.line}:{claim.text[:40]}" for page, claim in _CLAIMS]
)
def test_every_claim_names_a_test(page, claim):
    assert _REFERENCE.search(claim.text), f"{page}:{claim.line}: no `tests/…::test_…` backs: {claim.text}"


_REFERENCES = sorted(
    {(page, *reference) for page in PAGES for reference in _REFERENCE.findall((ROOT / page).read_text("utf-8"))}
)


@pytest.mark.parametrize(
    ("page", "path", "name"), _REFERENCES, ids=[f"{page}->{path}::{name}" for page, path, name in _REFERENCES]
)
def test_every_named_test_exists(page, path, name):
    assert (ROOT / path).is_file(), f"{page} names {path}, which does not exist"
    assert name in _tests_in(path), f"{page} names {path}::{name}, which does not exist"
