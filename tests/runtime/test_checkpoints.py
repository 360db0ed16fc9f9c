"""Checkpoints are untrusted data: a crafted blob runs no code, the default database is not in the
working folder, a damaged database or blob is a clear error naming the file (exit 2)."""

from __future__ import annotations

import enum
import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from langgraph.checkpoint.serde import _msgpack
from langgraph.checkpoint.serde.jsonplus import JsonPlusSerializer

from agent_factory.runtime.checkpoints import StrictSerializer, default_checkpoint_db, project_root
from agent_factory.runtime.executor import run_spec
from agent_factory.testing import StubLLM, reply
from agent_factory.testing.specs import TWO_STEPS



def _answer(body):
    field = next(iter(body["response_format"]["json_schema"]["schema"]["properties"]))
    return reply(json.dumps({field: f"{field} of {body['messages'][-1]['content']}"}))


@pytest.fixture
def stub():
    with StubLLM(_answer) as server:
        yield server


@pytest.fixture
def config(stub, make_config, alias_table, litellm):
    return make_config(alias_table("fast", stub, price_in="0.000001", price_out="0.000002"))


@pytest.fixture
def spec(tmp_path):
    path = tmp_path / "two.md"
    path.write_text(TWO_STEPS.strip() + "\n", encoding="utf-8")
    return path


@pytest.fixture
def data_home(tmp_path, monkeypatch):
    """The user's data folder, in the test's temporary folder."""
    home = tmp_path / "data-home"
    monkeypatch.setenv("XDG_DATA_HOME", str(home))
    return home


def _command_writing(marker: Path) -> enum.Enum:
    """A value the real serializer writes as its ext record (module, name, argument) =
    ("os", "system", "touch <marker>"): what a hostile checkpoint file would hold."""
    crafted = enum.Enum("system", {"CALL": f"touch {marker}"}, module="os")
    return crafted.CALL


def _plant(db: Path, thread: str, marker: Path) -> None:
    """Put the crafted value into the thread's latest checkpoint, as the `topic` channel."""
    with sqlite3.connect(db) as conn:
        rowid, kind, blob = conn.execute(
            "SELECT rowid, type, checkpoint FROM checkpoints WHERE thread_id = ? ORDER BY checkpoint_id DESC LIMIT 1",
            (thread,),
        ).fetchone()
        checkpoint = StrictSerializer(db).loads_typed((kind, blob))
        checkpoint["channel_values"]["topic"] = _command_writing(marker)
        conn.execute("UPDATE checkpoints SET type = ?, checkpoint = ? WHERE rowid = ?",
                     (*JsonPlusSerializer().dumps_typed(checkpoint), rowid))


def test_control_the_crafted_blob_runs_a_command_under_langgraphs_default_serializer(tmp_path, monkeypatch):
    monkeypatch.setattr(_msgpack, "STRICT_MSGPACK_ENABLED", False)  # LangGraph's default
    marker = tmp_path / "ran"
    blob = JsonPlusSerializer().dumps_typed({"topic": _command_writing(marker)})
    JsonPlusSerializer().loads_typed(blob)
    assert marker.exists()


def test_the_crafted_blob_comes_back_as_plain_data_under_the_strict_serializer(tmp_path):
    marker = tmp_path / "ran"
    blob = JsonPlusSerializer().dumps_typed({"topic": _command_writing(marker)})
    assert StrictSerializer(tmp_path / "db.sqlite").loads_typed(blob) == {"topic": f"touch {marker}"}
    assert not marker.exists()


def test_plain_value_types_round_trip_under_the_strict_serializer(tmp_path):
    import datetime
    import decimal
    import uuid

    values = {
        "when": datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc),
        "day": datetime.date(2026, 1, 2),
        "id": uuid.UUID("12345678-1234-5678-1234-567812345678"),
        "price": decimal.Decimal("0.004321"),
        "tags": {"a", "b"},
        "where": Path("notes/today.md"),
    }
    blob = JsonPlusSerializer().dumps_typed(values)
    assert StrictSerializer(tmp_path / "db.sqlite").loads_typed(blob) == values


@pytest.mark.parametrize("with_inputs", [False, True], ids=["resuming", "starting"])
def test_a_crafted_checkpoint_database_runs_no_code(tmp_path, spec, config, with_inputs):
    db, marker = tmp_path / "checkpoints.sqlite", tmp_path / "ran"
    run_spec(spec, {"topic": "tea"}, config=config, thread="t", checkpoint_db=db).raise_for_error()
    _plant(db, "t", marker)
    result = run_spec(spec, {"topic": "coffee"} if with_inputs else None, config=config, thread="t", checkpoint_db=db)
    assert result.ok, result.error
    assert not marker.exists()


def test_pickled_checkpoints_are_refused_naming_the_file(tmp_path):
    db = tmp_path / "checkpoints.sqlite"
    with pytest.raises(Exception) as caught:
        StrictSerializer(db).loads_typed(("pickle", b"cos\nsystem\n(S'true'\ntR."))
    assert str(caught.value) == (
        f"{db}: a checkpoint is stored as 'pickle', which is refused (only msgpack is read); "
        "delete the file to start afresh"
    )


def test_a_file_that_is_not_a_database_is_a_clear_error(tmp_path, spec, config):
    db = tmp_path / "checkpoints.sqlite"
    db.write_bytes(b"this is not SQLite at all" * 100)
    result = run_spec(spec, None, config=config, thread="t", checkpoint_db=db)
    assert (result.error_type, result.error) == (
        "ConfigError",
        f"{db}: not a usable checkpoint database (file is not a database); delete the file to start afresh",
    )


def test_a_garbage_checkpoint_blob_is_a_clear_error(tmp_path, spec, config):
    db = tmp_path / "checkpoints.sqlite"
    run_spec(spec, {"topic": "tea"}, config=config, thread="t", checkpoint_db=db).raise_for_error()
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE checkpoints SET checkpoint = ?", (b"\xc1\xc1garbage",))
    for inputs in (None, {"topic": "coffee"}):
        result = run_spec(spec, inputs, config=config, thread="t", checkpoint_db=db)
        assert result.error_type == "ConfigError"
        assert result.error.startswith(f"{db}: a checkpoint cannot be decoded (")
        assert result.error.endswith("); delete the file to start afresh")


def test_the_cli_exits_2_naming_a_damaged_checkpoint_file(tmp_path, spec, config):
    db = tmp_path / "checkpoints.sqlite"
    db.write_bytes(b"\x00garbage" * 64)
    cli = Path(sys.executable).with_name("agent-factory")
    done = subprocess.run([str(cli), "run", str(spec), "--thread", "t", "--checkpoint-db", str(db)],
                          capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr.endswith(
        f"Error: {db}: not a usable checkpoint database (file is not a database); delete the file to start afresh\n"
    )
    assert "Traceback" not in done.stderr


def test_the_default_database_is_in_the_user_data_folder_keyed_by_project(tmp_path, spec, config, data_home,
                                                                          monkeypatch):
    project = tmp_path / "project"
    (project / "sub").mkdir(parents=True)
    (project / "agent-factory.toml").write_text("", encoding="utf-8")
    monkeypatch.chdir(project / "sub")
    assert project_root() == project
    run_spec(spec, {"topic": "tea"}, config=config, thread="t").raise_for_error()
    [db] = (data_home / "agent-factory" / "checkpoints").glob("*.sqlite")
    assert db == default_checkpoint_db()
    assert not (project / "sub" / ".agent-factory").exists() and not (project / ".agent-factory").exists()
    other = tmp_path / "other"
    other.mkdir()
    assert default_checkpoint_db(other) != db  # another project, another database


def test_a_database_shipped_in_the_working_folder_is_not_read(tmp_path, spec, config, data_home, monkeypatch):
    shipped, marker = tmp_path / ".agent-factory" / "checkpoints.sqlite", tmp_path / "ran"
    run_spec(spec, {"topic": "tea"}, config=config, thread="t", checkpoint_db=shipped).raise_for_error()
    _plant(shipped, "t", marker)
    monkeypatch.chdir(tmp_path)
    result = run_spec(spec, None, config=config, thread="t")
    assert result.error == "no checkpointed run for thread 't'; start one with --input"
    assert not marker.exists()


def test_checkpointed_runs_of_one_spec_share_its_compiled_graph_and_keep_their_threads(tmp_path, spec, config, monkeypatch):
    from agent_factory.runtime import graph

    compiled = []
    real = graph.compile_graph
    monkeypatch.setattr(graph, "_SHARED", type(graph._SHARED)())
    monkeypatch.setattr(graph, "compile_graph", lambda *args: compiled.append(args[2].name) or real(*args))
    db = tmp_path / "checkpoints.sqlite"
    first = run_spec(spec, {"topic": "tea"}, config=config, thread="a", checkpoint_db=db)
    second = run_spec(spec, {"topic": "milk"}, config=config, thread="b", checkpoint_db=db)
    again = run_spec(spec, None, config=config, thread="a", checkpoint_db=db)  # thread a ended: its state, nothing run
    assert compiled == ["Two Steps"]
    assert (first.outputs, second.outputs) == ({"text": "text of Polish rough of Draft tea"},
                                               {"text": "text of Polish rough of Draft milk"})
    assert again.state["text"] == first.outputs["text"]
