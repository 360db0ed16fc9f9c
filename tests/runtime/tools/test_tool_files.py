"""File tools stay inside the workspace: no `..`, no absolute paths elsewhere, no escaping symlinks."""

from __future__ import annotations

import itertools
import os
import time

import pytest

from agent_factory.runtime.tools import ToolConfig, ToolContext, ToolError, builtin_tools

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


def _through(path: str, link: str) -> str:
    return f"path {path!r} goes through the symlink {link!r}; the file tools do not follow symlinks"


async def test_symlinks_pointing_out_are_refused_for_read_write_and_list(workspace):
    outside = workspace.parent
    os.symlink(outside / "secret.txt", workspace / "leak.txt")
    os.symlink(outside, workspace / "door")
    ctx = ctx_in(workspace)
    assert (await call(ctx, "read_file", path="leak.txt")).error == _through("leak.txt", "leak.txt")
    assert (await call(ctx, "read_file", path="door/secret.txt")).error == _through("door/secret.txt", "door")
    written = await call(ctx, "write_file", path="door/new.txt", content="x")
    assert written.error == _through("door/new.txt", "door")
    assert not (outside / "new.txt").exists()
    overwritten = await call(ctx, "write_file", path="leak.txt", content="x")
    assert overwritten.error == _through("leak.txt", "leak.txt")
    assert (outside / "secret.txt").read_text() == "top secret"
    assert (await call(ctx, "list_directory", path="door")).error == _through("door", "door")


async def test_symlinks_inside_the_workspace_are_not_followed_either(workspace):
    (workspace / "real").mkdir()
    (workspace / "real" / "a.txt").write_text("real")
    os.symlink(workspace / "real" / "a.txt", workspace / "alias.txt")
    os.symlink("real", workspace / "folder")
    ctx = ctx_in(workspace)
    assert (await call(ctx, "read_file", path="alias.txt")).error == _through("alias.txt", "alias.txt")
    assert (await call(ctx, "read_file", path="folder/a.txt")).error == _through("folder/a.txt", "folder")
    assert (await call(ctx, "read_file", path="real/a.txt")).content == "real"


async def test_a_symlink_loop_is_refused_like_any_symlink(workspace):
    os.symlink("b", workspace / "a")
    os.symlink("a", workspace / "b")
    ctx = ctx_in(workspace)
    assert (await call(ctx, "read_file", path="a")).error == _through("a", "a")
    assert (await call(ctx, "read_file", path="a/x.txt")).error == _through("a/x.txt", "a")
    assert (await call(ctx, "write_file", path="b/x.txt", content="x")).error == _through("b/x.txt", "b")
    assert (await call(ctx, "list_directory", path="a")).error == _through("a", "a")


async def test_hard_linked_files_are_neither_read_nor_overwritten(workspace):
    outside = workspace.parent / "secret.txt"
    os.link(outside, workspace / "linked.txt")
    ctx = ctx_in(workspace)
    refused = "file 'linked.txt' has 2 hard links; the file tools refuse hard-linked files"
    assert (await call(ctx, "read_file", path="linked.txt")).error == refused
    assert (await call(ctx, "write_file", path="linked.txt", content="pwned")).error == refused
    assert outside.read_text() == "top secret"


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


async def test_a_workspace_that_is_a_symlink_loop_is_reported(tmp_path):
    os.symlink(tmp_path / "b", tmp_path / "a")
    os.symlink(tmp_path / "a", tmp_path / "b")
    result = await call(ctx_in(tmp_path / "a"), "list_directory")
    assert result.error == f"the workspace folder {str(tmp_path / 'a')!r} is a symlink loop"


async def test_a_missing_workspace_folder_is_reported(tmp_path):
    result = await call(ctx_in(tmp_path / "nowhere"), "read_file", path="a.txt")
    assert result.error == f"the workspace folder {str(tmp_path / 'nowhere')!r} does not exist"


@pytest.mark.parametrize("tool, args", [("read_file", {"path": "d/f.txt"}),
                                        ("write_file", {"path": "d/new.txt", "content": "x"})])
async def test_a_folder_swapped_for_a_symlink_after_the_path_checks_is_not_followed(workspace, monkeypatch, tool, args):
    outside = workspace.parent / "outside"
    outside.mkdir()
    (outside / "f.txt").write_text("SECRET")
    (workspace / "d").mkdir()
    (workspace / "d" / "f.txt").write_text("inside")
    real_open = os.open

    def swap_then_open(path, flags, *rest, **options):
        """The attacker wins every race: `d` becomes a symlink just before the first open."""
        if not (workspace / "d").is_symlink():
            os.rename(workspace / "d", workspace / "d-real")
            os.symlink(outside, workspace / "d")
        return real_open(path, flags, *rest, **options)

    monkeypatch.setattr(os, "open", swap_then_open)
    result = await call(ctx_in(workspace), tool, **args)
    assert result.error == _through(args["path"], "d")
    assert sorted(p.name for p in outside.iterdir()) == ["f.txt"]


_SWAPPER = """
import os, sys
workspace, outside = sys.argv[1], sys.argv[2]
real, link, aside = (os.path.join(workspace, name) for name in ("d", "d-link", "d-real"))
print("swapping", flush=True)
while True:
    try:
        os.symlink(outside, link)
        os.rename(real, aside)
        os.rename(link, real)  # `d` is now a symlink to the outside folder
        os.unlink(real)
        os.rename(aside, real)
    except OSError:  # a write made `d` while it was aside: put the real one back
        for leftover in (link, real):
            if os.path.islink(leftover):
                os.unlink(leftover)
        if os.path.isdir(aside):
            for name in os.listdir(real) if os.path.isdir(real) else ():
                os.unlink(os.path.join(real, name))
            os.rename(aside, real)
"""


async def test_a_folder_swapped_for_a_symlink_during_the_walk_never_leads_outside(workspace):
    import subprocess
    import sys

    from agent_factory.runtime.tools.files import _read, _write

    outside = workspace.parent / "outside"
    outside.mkdir()
    (outside / "f.txt").write_text("SECRET")
    (workspace / "d").mkdir()
    (workspace / "d" / "f.txt").write_text("inside")
    # another process swaps `d` for a symlink to `outside` and back, truly in parallel
    swapper = subprocess.Popen([sys.executable, "-c", _SWAPPER, str(workspace), str(outside)],
                               stdout=subprocess.PIPE, text=True)
    assert swapper.stdout.readline() == "swapping\n"  # the race starts before the reads do
    leaked_reads = reads = 0
    deadline = time.monotonic() + 20
    try:
        # the direct functions: the tool adds only a thread hop per call. At least 3000 tries, and
        # on until one read went through while the folder was real (a loaded machine may starve it)
        for i in itertools.count():
            if i >= 3000 and (reads > 0 or time.monotonic() > deadline):
                break
            try:
                leaked_reads += _read(workspace, "d/f.txt", 100) == "SECRET"
                reads += 1
                if i % 10 == 0:
                    _write(workspace, "d/w.txt", "x", 100)
            except ToolError:
                pass
    finally:
        swapper.kill()
        swapper.communicate()
    assert leaked_reads == 0
    assert sorted(p.name for p in outside.iterdir()) == ["f.txt"]  # no write landed outside
    assert reads > 0  # some reads went through while the folder was real
