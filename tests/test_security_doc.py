"""docs/security.md is held to its word: every promise (a bullet) names at least one test as
`tests/…::test_name`, and every test it names exists."""

from __future__ import annotations

import ast
import functools
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "security.md"
_REFERENCE = re.compile(r"`(tests/[\w/]+\.py)::(test_\w+)`")


def _sections() -> dict[str, list[str]]:
    """The bullets of each `##` section, their continuation lines joined (code fences skipped)."""
    sections: dict[str, list[str]] = {"": []}
    current, fenced = "", False
    for line in DOC.read_text(encoding="utf-8").splitlines():
        if line.startswith("```"):
            fenced = not fenced
        elif fenced:
            continue
        elif line.startswith("## "):
            current = line[3:]
            sections[current] = []
        elif line.startswith("- "):
            sections[current].append(line[2:])
        elif line.startswith("  ") and line.strip() and sections[current]:
            sections[current][-1] += " " + line.strip()
    return sections


def _claims() -> list[str]:
    """Every bullet is a promise, except those saying who is trusted."""
    return [bullet for title, bullets in _sections().items() if title != "Who is trusted" for bullet in bullets]


@functools.cache
def _tests_in(path: str) -> frozenset[str]:
    tree = ast.parse((ROOT / path).read_text(encoding="utf-8"))
    return frozenset(
        node.name for node in ast.walk(tree) if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
    )


def test_the_page_makes_promises():
    assert len(_claims()) >= 30


@pytest.mark.parametrize("claim", _claims(), ids=lambda claim: claim[:48])
def test_every_promise_names_a_test(claim):
    assert _REFERENCE.search(claim), f"no `tests/…::test_…` backs: {claim}"


_REFERENCES = sorted(set(_REFERENCE.findall(DOC.read_text(encoding="utf-8"))))


@pytest.mark.parametrize(("path", "name"), _REFERENCES, ids=[f"{path}::{name}" for path, name in _REFERENCES])
def test_every_named_test_exists(path, name):
    assert (ROOT / path).is_file(), f"docs/security.md names {path}, which does not exist"
    assert name in _tests_in(path), f"docs/security.md names {path}::{name}, which does not exist"
