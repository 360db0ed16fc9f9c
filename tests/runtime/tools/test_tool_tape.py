"""Tool tapes are local files anyone can edit: a truncated, empty, garbled or too deeply nested
tape fails the replayed run with a message naming the file, never with an internal error."""

from __future__ import annotations

import json

import pytest

from agent_factory.runtime.executor import run_spec
from agent_factory.runtime.tools import ToolResult
from agent_factory.runtime.tools.tape import ToolTapeError, read_recorded, write_recorded
from agent_factory.testing.specs import CALC


AGAIN = "record it again with --record"


@pytest.fixture
def recorded(tmp_path):
    """A spec whose one tool step was recorded: (spec path, cassette folder, the tape file)."""
    spec = tmp_path / "calc.md"
    spec.write_text(CALC.strip() + "\n", encoding="utf-8")
    cassettes = tmp_path / "cassettes"
    first = run_spec(spec, "x", record=cassettes)
    assert (first.ok, first.outputs) == (True, {"total": 42}), first.error
    (tape,) = (cassettes / "tools").iterdir()
    return spec, cassettes, tape


def test_a_recorded_tape_replays(recorded):
    spec, cassettes, _ = recorded
    result = run_spec(spec, "x", replay=cassettes)
    assert (result.ok, result.outputs, result.tools_called) == (True, {"total": 42}, ["calculator"])


@pytest.mark.parametrize(("content", "problem"), [
    (b"", "is not valid JSON (Expecting value: line 1 column 1 (char 0))"),
    (b'{"tool": "calculator", "args": {"expr', "is not valid JSON (Unterminated string starting at: line 1 "
                                              "column 33 (char 32))"),
    (b"\xff\xfe garbage", "is not UTF-8 text (byte 0)"),
    (b"[" * 100_000 + b"]" * 100_000, "is nested too deeply to read"),
    (b'{"tool": "calculator"}', "has no 'result' object"),
    (b'{"result": {"ok": "maybe"}}', "holds an invalid result (ok: Input should be a valid boolean, unable to "
                                     "interpret input)"),
])
def test_a_broken_tape_fails_the_run_naming_the_file(recorded, content, problem):
    spec, cassettes, tape = recorded
    tape.write_bytes(content)
    result = run_spec(spec, "x", replay=cassettes)
    assert result.error == f"the tool tape {tape} {problem}; {AGAIN}"
    assert result.error_type == "ToolTapeError"


def test_a_broken_tape_in_the_cli_is_a_failed_run_without_a_traceback(recorded, monkeypatch):
    from click.testing import CliRunner

    from agent_factory.cli import main

    spec, cassettes, tape = recorded
    tape.write_text('{"result": ', encoding="utf-8")
    outcome = CliRunner().invoke(main, ["run", str(spec), "--input", "x", "--replay", str(cassettes)])
    assert outcome.exit_code == 1
    assert f"the tool tape {tape} is not valid JSON" in outcome.output
    assert "internal error" not in outcome.output and "Traceback" not in outcome.output


def test_tapes_round_trip_and_an_unwritable_folder_is_named(tmp_path):
    path = tmp_path / "tools" / "calculator-1.json"
    write_recorded(path, {"tool": "calculator", "args": {}, "result": {"ok": True, "content": 4, "error": None}})
    assert read_recorded(path) == ToolResult(ok=True, content=4)
    assert json.loads(path.read_text())["tool"] == "calculator"
    (tmp_path / "file").write_text("")
    with pytest.raises(ToolTapeError) as caught:
        write_recorded(tmp_path / "file" / "tools" / "x.json", {})
    assert str(caught.value) == f"cannot write the tool tape {tmp_path / 'file' / 'tools' / 'x.json'}: Not a directory"
