"""The file built-ins (`read_file`, `write_file`, `list_directory`), confined to one workspace.

A path is joined to the workspace (or taken as given when absolute), then resolved with
every symlink followed; the result must lie inside the resolved workspace. So `..`,
absolute paths elsewhere and symlinks that point out are all refused by the same check.
Files are then opened with `O_NOFOLLOW`, so a symlink swapped in after the check is not
followed either. The work runs in a thread to keep the event loop free.
"""

from __future__ import annotations

import asyncio
import os
import stat
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .model import ToolError

if TYPE_CHECKING:
    from .context import ToolContext

# O_NONBLOCK: opening a FIFO someone left in the workspace must not hang the thread.
_OPEN_FLAGS = getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)


def workspace_root(ctx: ToolContext) -> Path:
    """The resolved workspace folder, or a `ToolError` when none is usable."""
    configured = ctx.config.workspace
    if configured is None:
        raise ToolError("no workspace folder is configured; set [tools] workspace in agent-factory.toml")
    root = Path(configured).expanduser().resolve()
    if not root.is_dir():
        raise ToolError(f"the workspace folder {str(root)!r} does not exist")
    return root


def confine(root: Path, path: str) -> Path:
    """`path` resolved inside `root`, or a `ToolError` when it is empty or points outside."""
    if not path.strip():
        raise ToolError("the path is empty")
    if "\x00" in path:
        raise ToolError("the path contains a NUL character")
    resolved = (root / path).resolve()  # an absolute `path` replaces `root` here
    if not resolved.is_relative_to(root):
        raise ToolError(f"path {path!r} is outside the workspace")
    return resolved


def _shown(root: Path, target: Path) -> str:
    """The path as shown back: relative to the workspace, `.` for the workspace itself."""
    return target.relative_to(root).as_posix() or "."


def _read(root: Path, path: str, limit: int) -> str:
    """Read a UTF-8 text file of at most `limit` bytes."""
    target = confine(root, path)
    try:
        fd = os.open(target, os.O_RDONLY | _OPEN_FLAGS)
    except FileNotFoundError:
        raise ToolError(f"file {path!r} does not exist") from None
    except OSError as exc:
        raise ToolError(f"cannot open {path!r}: {exc.strerror}") from None
    try:
        info = os.fstat(fd)  # of the opened file itself, so it cannot change under us
        if stat.S_ISDIR(info.st_mode):
            raise ToolError(f"{path!r} is a directory; use list_directory")
        if not stat.S_ISREG(info.st_mode):
            raise ToolError(f"{path!r} is not a regular file")
        if info.st_size > limit:
            raise ToolError(f"file {path!r} is {info.st_size} bytes; the limit is {limit}")
        data = _read_at_most(fd, limit + 1)
    finally:
        os.close(fd)
    if len(data) > limit:  # it grew while we read
        raise ToolError(f"file {path!r} is larger than the limit of {limit} bytes")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise ToolError(f"file {path!r} is not UTF-8 text") from None


def _read_at_most(fd: int, size: int) -> bytes:
    """Up to `size` bytes from `fd` (a single read may return fewer)."""
    chunks: list[bytes] = []
    remaining = size
    while remaining > 0:
        chunk = os.read(fd, remaining)
        if not chunk:
            break
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


def _write(root: Path, path: str, content: str, limit: int) -> dict[str, Any]:
    """Write `content` as UTF-8, creating parent folders inside the workspace."""
    data = content.encode("utf-8")
    if len(data) > limit:
        raise ToolError(f"the content is {len(data)} bytes; the limit is {limit}")
    target = confine(root, path)
    if target == root or target.is_dir():
        raise ToolError(f"{path!r} is a directory")
    if target.exists() and not target.is_file():
        raise ToolError(f"{path!r} is not a regular file")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ToolError(f"cannot create the folder for {path!r}: {exc.strerror}") from None
    try:
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | _OPEN_FLAGS, 0o644)
    except OSError as exc:
        raise ToolError(f"cannot write {path!r}: {exc.strerror}") from None
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    return {"path": _shown(root, target), "bytes": len(data)}


def _list(root: Path, path: str, limit: int) -> dict[str, Any]:
    """The entries of a folder, sorted by name, at most `limit` of them."""
    target = confine(root, path)
    if not target.exists():
        raise ToolError(f"folder {path!r} does not exist")
    if not target.is_dir():
        raise ToolError(f"{path!r} is not a folder")
    try:
        names = sorted(os.listdir(target))
    except OSError as exc:
        raise ToolError(f"cannot list {path!r}: {exc.strerror}") from None
    entries = [_entry(target / name) for name in names[:limit]]
    return {"path": _shown(root, target), "entries": entries, "truncated": len(names) > limit}


def _entry(path: Path) -> dict[str, Any]:
    """One listing entry; symlinks are reported as such, never followed."""
    info = path.lstat()
    if stat.S_ISLNK(info.st_mode):
        return {"name": path.name, "type": "symlink"}
    if stat.S_ISDIR(info.st_mode):
        return {"name": path.name, "type": "directory"}
    if stat.S_ISREG(info.st_mode):
        return {"name": path.name, "type": "file", "size": info.st_size}
    return {"name": path.name, "type": "other"}


async def read_file_tool(args: dict[str, Any], ctx: ToolContext) -> str:
    """The `read_file` built-in."""
    return await asyncio.to_thread(_read, workspace_root(ctx), args["path"], ctx.config.max_read_bytes)


async def write_file_tool(args: dict[str, Any], ctx: ToolContext) -> dict[str, Any]:
    """The `write_file` built-in."""
    root = workspace_root(ctx)
    return await asyncio.to_thread(_write, root, args["path"], args["content"], ctx.config.max_write_bytes)


async def list_directory_tool(args: dict[str, Any], ctx: ToolContext) -> dict[str, Any]:
    """The `list_directory` built-in."""
    return await asyncio.to_thread(_list, workspace_root(ctx), args["path"], ctx.config.max_list_entries)
