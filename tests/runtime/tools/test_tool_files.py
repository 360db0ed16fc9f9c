"""File tools stay inside the workspace: no `..`, no absolute paths elsewhere, no escaping symlinks."""

from __future__ import annotations

import os

import pytest

from agent_factory.runtime.tools import ToolConfig, ToolContext, builtin_tools

pytestmark = pytest.mark.anyio


def ctx_in(workspace, **limits) -> ToolContext:
    return ToolContext(ToolConfig(workspace=workspace, **limits))


async def call(ctx, name, **args):
    return await builtin_tools()[name].invoke(args, ctx)


async def test_write_then_read_round_trips_and_creates_folders(workspace):
    ctx = ctx_in(workspace)
    written = await call(ctx, "write_file", path="notes/today.md", content="héllo\n")
    assert (written.ok, written.content) == (True, {"path": "notes/today.md", "bytes": 7})
    assert (workspace / "notes" / "today.md").read_text(encoding="utf-8") == "héllo\n"
    assert (await call(ctx, "read_file", path="notes/today.md")).content == "héllo\n"


async def test_list_directory_is_sorted_and_typed(workspace):
    (workspace / "b.txt").write_text("bb")
    (workspace / "a.txt").write_text("a")
    (workspace / "C").mkdir()
    os.symlink(workspace / "a.txt", workspace / "link")
    result = await call(ctx_in(workspace), "list_directory")
    assert result.content == {
        "path": ".",
        "entries": [
            {"name": "C", "type": "directory"},
            {"name": "a.txt", "type": "file", "size": 1},
            {"name": "b.txt", "type": "file", "size": 2},
            {"name": "link", "type": "symlink"},
        ],
        "truncated": False,
    }


async def test_list_directory_is_capped(workspace):
    for name in "dcba":
        (workspace / name).write_text("")
    result = await call(ctx_in(workspace, max_list_entries=2), "list_directory", path=".")
    assert result.content == {
        "path": ".",
        "entries": [{"name": "a", "type": "file", "size": 0}, {"name": "b", "type": "file", "size": 0}],
        "truncated": True,
    }


@pytest.mark.parametrize("path", ["../secret.txt", "notes/../../secret.txt", "..", "../workspace/../secret.txt"])
async def test_parent_traversal_is_refused(workspace, path):
    result = await call(ctx_in(workspace), "read_file", path=path)
    assert result.error == f"path {path!r} is outside the workspace"


async def test_absolute_paths_outside_are_refused_and_inside_are_fine(workspace):
    ctx = ctx_in(workspace)
    assert (await call(ctx, "read_file", path="/etc/passwd")).error == "path '/etc/passwd' is outside the workspace"
    (workspace / "in.txt").write_text("inside")
    assert (await call(ctx, "read_file", path=str(workspace / "in.txt"))).content == "inside"


async def test_symlinks_pointing_out_are_refused_for_read_write_and_list(workspace):
    outside = workspace.parent
    os.symlink(outside / "secret.txt", workspace / "leak.txt")
    os.symlink(outside, workspace / "door")
    ctx = ctx_in(workspace)
    assert (await call(ctx, "read_file", path="leak.txt")).error == "path 'leak.txt' is outside the workspace"
    assert (await call(ctx, "read_file", path="door/secret.txt")).error == (
        "path 'door/secret.txt' is outside the workspace"
    )
    written = await call(ctx, "write_file", path="door/new.txt", content="x")
    assert written.error == "path 'door/new.txt' is outside the workspace"
    assert not (outside / "new.txt").exists()
    assert (await call(ctx, "list_directory", path="door")).error == "path 'door' is outside the workspace"


async def test_symlinks_inside_the_workspace_are_followed(workspace):
    (workspace / "real.txt").write_text("real")
    os.symlink(workspace / "real.txt", workspace / "alias.txt")
    assert (await call(ctx_in(workspace), "read_file", path="alias.txt")).content == "real"


async def test_size_limits_apply_to_reads_and_writes(workspace):
    (workspace / "big.txt").write_text("x" * 11)
    ctx = ctx_in(workspace, max_read_bytes=10, max_write_bytes=10)
    assert (await call(ctx, "read_file", path="big.txt")).error == "file 'big.txt' is 11 bytes; the limit is 10"
    written = await call(ctx, "write_file", path="w.txt", content="é" * 6)
    assert written.error == "the content is 12 bytes; the limit is 10"
    assert not (workspace / "w.txt").exists()


@pytest.mark.parametrize(
    ("tool", "args", "error"),
    [
        ("read_file", {"path": "missing.txt"}, "file 'missing.txt' does not exist"),
        ("read_file", {"path": "sub"}, "'sub' is a directory; use list_directory"),
        ("read_file", {"path": "bin.dat"}, "file 'bin.dat' is not UTF-8 text"),
        ("read_file", {"path": ""}, "the path is empty"),
        ("read_file", {"path": "a\x00b"}, "the path contains a NUL character"),
        ("write_file", {"path": "sub", "content": "x"}, "'sub' is a directory"),
        ("write_file", {"path": ".", "content": "x"}, "'.' is a directory"),
        ("list_directory", {"path": "nope"}, "folder 'nope' does not exist"),
        ("list_directory", {"path": "bin.dat"}, "'bin.dat' is not a folder"),
    ],
)
async def test_other_file_problems_are_explained(workspace, tool, args, error):
    (workspace / "sub").mkdir()
    (workspace / "bin.dat").write_bytes(b"\xff\xfe\x00")
    assert (await call(ctx_in(workspace), tool, **args)).error == error


async def test_file_tools_refuse_without_a_workspace():
    result = await call(ToolContext(), "list_directory")
    assert result.error == "no workspace folder is configured; set [tools] workspace in agent-factory.toml"


async def test_a_missing_workspace_folder_is_reported(tmp_path):
    result = await call(ctx_in(tmp_path / "nowhere"), "read_file", path="a.txt")
    assert result.error == f"the workspace folder {str(tmp_path / 'nowhere')!r} does not exist"
