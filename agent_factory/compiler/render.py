"""Diagnostics output: text (with the source line and a caret), JSON and SARIF 2.1.0."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Callable, Iterable

from .. import __version__
from .diagnostics import CODES, Diagnostic, Severity

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
_SARIF_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.NOTE: "note"}


def _file_lines(path: str) -> list[str]:
    try:
        return Path(path).read_text(encoding="utf-8-sig").split("\n")
    except (OSError, UnicodeDecodeError):
        return []


def render_text(diagnostics: Iterable[Diagnostic], source: Callable[[str], list[str]] = _file_lines, color: bool = False) -> str:
    """`path:line:col: severity[CODE]: message`, the source line, a caret, `help:` and notes."""
    cache: dict[str, list[str]] = {}
    blocks = []
    for diag in diagnostics:
        if diag.span.file not in cache:
            cache[diag.span.file] = source(diag.span.file)
        blocks.append(_text_block(diag, cache[diag.span.file], color))
    return "\n".join(blocks)


def _paint(text: str, code: str, color: bool) -> str:
    return f"\x1b[{code}m{text}\x1b[0m" if color else text


def _text_block(diag: Diagnostic, lines: list[str], color: bool) -> str:
    span = diag.span
    severity = _paint(f"{diag.severity.value}[{diag.code}]", "1;31" if diag.severity is Severity.ERROR else "1;33", color)
    out = [f"{span.file}:{span.line}:{span.column}: {severity}: {diag.message}"]
    if 1 <= span.line <= len(lines):
        source = lines[span.line - 1].rstrip("\r")
        gutter = " " * len(str(span.line))
        width = (span.end_column - span.column) if span.end_line == span.line else len(source) - span.column + 1
        width = max(1, min(width, max(len(source) - span.column + 1, 1)))
        out.append(f" {span.line} | {source}")
        out.append(f" {gutter} | {' ' * (span.column - 1)}{_paint('^' * width, '1;32', color)}")
    if diag.hint:
        out.append(f"  help: {diag.hint}")
    for related in diag.related:
        out.append(f"  note: {related.message}: {related.span.file}:{related.span.line}:{related.span.column}")
    return "\n".join(out) + "\n"


def render_json(diagnostics: Iterable[Diagnostic]) -> str:
    """A JSON list of `{code, severity, message, file, line, column, end_line, end_column, hint}`."""
    return json.dumps([d.as_dict() for d in diagnostics], indent=2, ensure_ascii=False) + "\n"


def sarif(diagnostics: list[Diagnostic]) -> dict:
    """A SARIF 2.1.0 log with one run; rules are the codes used, described from `CODES`."""
    used = sorted({d.code for d in diagnostics})
    # a plugin's own codes are not in CODES: describe them from their first diagnostic
    described = {d.code: (d.severity, d.message) for d in reversed(diagnostics)}
    described.update({code: CODES[code] for code in used if code in CODES})
    rules = [
        {
            "id": code,
            "name": described[code][1].title().replace(" ", "")[:60],
            "shortDescription": {"text": described[code][1]},
            "helpUri": f"https://agent-factory.dev/docs/diagnostics#{code.lower()}",
            "defaultConfiguration": {"level": _SARIF_LEVEL[described[code][0]]},
        }
        for code in used
    ]
    results = []
    for diag in diagnostics:
        result = {
            "ruleId": diag.code,
            "ruleIndex": used.index(diag.code),
            "level": _SARIF_LEVEL[diag.severity],
            "message": {"text": diag.message + (f" (help: {diag.hint})" if diag.hint else "")},
            "locations": [_location(diag.span)],
        }
        if diag.related:
            result["relatedLocations"] = [
                {**_location(r.span), "id": i, "message": {"text": r.message}} for i, r in enumerate(diag.related)
            ]
        results.append(result)
    return {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "agent-factory", "version": __version__, "informationUri": "https://agent-factory.dev", "rules": rules}},
            "columnKind": "unicodeCodePoints",
            "results": results,
        }],
    }


def _location(span) -> dict:
    return {
        "physicalLocation": {
            "artifactLocation": {"uri": Path(span.file).as_posix()},
            "region": {"startLine": span.line, "startColumn": span.column, "endLine": span.end_line, "endColumn": span.end_column},
        }
    }


def render_sarif(diagnostics: list[Diagnostic]) -> str:
    return json.dumps(sarif(diagnostics), indent=2, ensure_ascii=False) + "\n"
