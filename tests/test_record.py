"""The compiler's data types as plain records: frozen, compared by value, loaded from JSON with checks."""

from __future__ import annotations

import json
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from agent_factory.compiler import parse_text
from agent_factory.compiler.diagnostics import Diagnostic, Related, Severity
from agent_factory.compiler.ir import Literal_, Path as PathExpr, Spec
from agent_factory.compiler.record import RecordError
from agent_factory.compiler.span import Span

ROOT = Path(__file__).resolve().parent.parent
SPAN = Span.point("x.md", 3, 5, 2)
TEXT = "# Agent: X\n\n## Purpose\nTest.\n\n## Invariants\n1. **X-001 Cheap:** MUST be cheap. `check: run.cost_usd <= $0.50`\n"


def ir() -> dict:
    return parse_text(TEXT, "x.md").spec.model_dump(mode="json")


def test_parsing_a_spec_does_not_import_pydantic():
    probe = ("import sys\nfrom agent_factory.compiler import parse\n"
             "assert parse('specs/market_research.md').spec is not None\n"
             "print(sorted(m for m in sys.modules if m.split('.')[0] in ('pydantic', 'pydantic_core')))")
    done = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=60, check=True)
    assert done.stdout == "[]\n"


def test_records_are_frozen_and_copied_with_updates():
    with pytest.raises(AttributeError) as caught:
        SPAN.line = 4  # type: ignore[misc]
    assert str(caught.value) == "Span is frozen: use model_copy(update=...)"
    moved = SPAN.model_copy(update={"line": 4, "end_line": 4})
    assert (moved.line, moved.end_line, SPAN.line) == (4, 4, 3)
    with pytest.raises(TypeError) as caught:
        SPAN.model_copy(update={"lines": 4})
    assert str(caught.value) == "Span: unknown field `lines`"


def test_records_compare_and_hash_by_type_and_values():
    assert Span.point("x.md", 3, 5, 2) == SPAN and hash(Span.point("x.md", 3, 5, 2)) == hash(SPAN)
    assert SPAN != SPAN.model_copy(update={"column": 6})
    assert PathExpr(span=SPAN, parts=("a",)) != Literal_(span=SPAN, type="string", value="a")
    assert repr(SPAN) == "Span(file='x.md', line=3, column=5, end_line=3, end_column=7)"


def test_constructing_a_record_names_unknown_and_missing_fields():
    with pytest.raises(TypeError) as caught:
        Span(file="x.md", line=1, column=1, end_line=1, colum=2)
    assert str(caught.value) == "Span: unknown field `colum`, missing field `end_column`"


def test_a_diagnostic_takes_a_severity_as_text_and_related_places_as_a_list():
    diagnostic = Diagnostic(code="W901", severity="warning", message="m", span=SPAN,
                            related=[Related(message="here", span=SPAN)])
    assert diagnostic.severity is Severity.WARNING
    assert diagnostic.related == (Related(message="here", span=SPAN),)
    assert diagnostic.model_dump(mode="json") == {
        "code": "W901", "severity": "warning", "message": "m",
        "span": {"file": "x.md", "line": 3, "column": 5, "end_line": 3, "end_column": 7},
        "hint": None, "related": [{"message": "here", "span": SPAN.model_dump()}]}


def test_ir_json_reads_back_equal_with_exact_literal_values():
    spec = parse_text(TEXT, "x.md").spec
    back = Spec.model_validate_json(spec.model_dump_json())
    assert back == spec
    assert back.invariants[0].check.tree.right == Literal_(span=back.invariants[0].check.tree.right.span,
                                                           type="money", value=Decimal("0.50"))


@pytest.mark.parametrize(("change", "message"), [
    (lambda d: d.update(colour="red"), "Spec: unknown field `colour`"),
    (lambda d: d.pop("name"), "Spec: missing field `name`"),
    (lambda d: d["span"].update(line="1"), 'Spec.span.line: expected an integer, got "1"'),
    (lambda d: d["meta"].update(tags="a"), 'Spec.meta.tags: expected a list, got "a"'),
    (lambda d: d.update(kind="robot"),
     'Spec.kind: expected one of "agent", "team", "component", "constitution", got "robot"'),
    (lambda d: d["invariants"][0]["check"]["tree"].update(node="ternary"),
     'Spec.invariants.0.check.tree.node: expected one of "literal", "path", "unary", "binary", "call", "list", '
     'got "ternary"'),
    (lambda d: d["invariants"][0]["check"]["tree"]["right"].update(value="half"),
     'Spec.invariants.0.check.tree.right.value: expected a decimal number, got "half"'),
    (lambda d: d["invariants"][0]["check"]["tree"]["right"].update(type="bool"),
     "Spec.invariants.0.check.tree.right.value: a bool literal needs true or false, got '0.50'"),
    (lambda d: d.update(invariants={}), "Spec.invariants: expected a list, got {}"),
    (lambda d: d["invariants"][0]["check"]["tree"].update(node=["binary"]),
     'Spec.invariants.0.check.tree.node: expected one of "literal", "path", "unary", "binary", "call", "list", '
     'got ["binary"]'),
    (lambda d: d["invariants"][0]["check"]["tree"].update(node={"node": "binary"}),
     'Spec.invariants.0.check.tree.node: expected one of "literal", "path", "unary", "binary", "call", "list", '
     'got {"node": "binary"}'),
])
def test_loading_malformed_ir_names_the_field_and_what_was_wrong(change, message):
    data = ir()
    change(data)
    with pytest.raises(RecordError) as caught:
        Spec.model_validate(data)
    assert str(caught.value) == message


def test_loading_text_that_is_not_json_says_so():
    with pytest.raises(RecordError) as caught:
        Spec.model_validate_json("{")
    assert str(caught.value) == "Spec: not JSON: Expecting property name enclosed in double quotes: line 1 column 2 (char 1)"
    assert json.loads(Spec.model_validate(ir()).model_dump_json()) == ir()


def test_loading_ir_nested_past_the_recursion_limit_says_so():
    data = ir()
    tree = data["invariants"][0]["check"]["tree"]
    for _ in range(sys.getrecursionlimit()):
        tree = {"node": "unary", "op": "not", "operand": tree, "span": tree["span"]}
    data["invariants"][0]["check"]["tree"] = tree
    with pytest.raises(RecordError) as caught:
        Spec.model_validate(data)
    assert str(caught.value) == "Spec: nested too deeply to load"
    with pytest.raises(RecordError) as caught:
        Spec.model_validate_json("[" * 100_000)
    assert str(caught.value) == "Spec: not JSON: nested too deeply"
