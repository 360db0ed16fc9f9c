"""docs/plugins.md documents every hook in hookspecs.py, with its exact signature and firstresult."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest

from agent_factory.compiler import hookspecs

DOC = Path(__file__).resolve().parents[1] / "docs" / "plugins.md"
_DEF = re.compile(r"^def (af_\w+)\((.*)\)\s*->\s*(.+?):\s*(?:\.\.\.)?\s*$")
_FENCE = re.compile(r"^```python\n(.*?)^```", re.MULTILINE | re.DOTALL)


def hookspec_functions() -> dict[str, object]:
    return {name: func for name, func in inspect.getmembers(hookspecs, inspect.isfunction)
            if hasattr(func, f"{hookspecs.PROJECT}_spec")}


def _annotation(value) -> str:
    if value is inspect.Signature.empty:
        return ""
    text = value if isinstance(value, str) else getattr(value, "__name__", repr(value))
    return text.replace("'", "").replace('"', "")


def signature_line(func) -> str:
    """`def name(a: T, b: U) -> R` from the hookspec, quotes of forward references removed."""
    sig = inspect.signature(func)
    params = ", ".join(f"{p.name}: {_annotation(p.annotation)}" for p in sig.parameters.values())
    return f"def {func.__name__}({params}) -> {_annotation(sig.return_annotation)}"


def documented() -> dict[str, list[str]]:
    """Hook name -> the signature lines shown for it in python blocks of the doc."""
    found: dict[str, list[str]] = {}
    for block in _FENCE.findall(DOC.read_text(encoding="utf-8")):
        for line in block.splitlines():
            match = _DEF.match(line)
            if match and line.rstrip().endswith("..."):
                name, params, ret = match.groups()
                text = f"def {name}({params}) -> {ret}".replace("'", "").replace('"', "")
                found.setdefault(name, []).append(" ".join(text.split()))
    return found


def _section(name: str) -> str:
    text = DOC.read_text(encoding="utf-8")
    match = re.search(rf"^### {name}\n(.*?)(?=^### |^## |\Z)", text, re.MULTILINE | re.DOTALL)
    return match.group(1) if match else ""


@pytest.mark.parametrize("name", sorted(hookspec_functions()))
def test_every_hook_is_documented_with_its_signature(name):
    expected = signature_line(hookspec_functions()[name])
    shown = documented().get(name)
    assert shown, f"{name} is not documented in docs/plugins.md (add a python block with `{expected}: ...`)"
    assert shown == [expected], f"docs/plugins.md shows {shown} but the hookspec is `{expected}`"


@pytest.mark.parametrize("name", sorted(hookspec_functions()))
def test_every_hook_section_says_when_returns_and_firstresult(name):
    section = _section(name)
    assert section, f"docs/plugins.md has no `### {name}` section"
    first = getattr(hookspecs_functions := hookspec_functions()[name], f"{hookspecs.PROJECT}_spec")["firstresult"]
    assert "**When:**" in section and "**Returns:**" in section
    assert f"**firstresult:** {'yes' if first else 'no'}" in section, f"{hookspecs_functions.__name__}: firstresult is {first}"


def test_no_documented_hook_is_missing_from_hookspecs():
    assert sorted(set(documented()) - set(hookspec_functions())) == []


def test_every_hookspec_has_a_docstring():
    assert [n for n, f in hookspec_functions().items() if not (f.__doc__ or "").strip()] == []
