"""The file built-ins (`read_file`, `write_file`, `list_directory`), confined to one workspace.

A path is normalised as text (`a/../b` is `b`; an absolute path must lie in the workspace),
and anything that climbs out is refused. It is then walked one component at a time from an
open handle on the workspace (`openat`-style, `dir_fd`), each component opened with
`O_NOFOLLOW`: a symlink anywhere on the path is refused, so a folder swapped for a symlink
while we walk cannot lead outside, and no check can go stale before the open. Files with more
than one hard link are refused too, since the other link may be outside the workspace. The
work runs in a thread to keep the event loop free.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import posixpath
import stat
from collections.abc import Iterator
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from .model import ToolError

if TYPE_CHECKING:
    from .context import ToolContext

_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | _CLOEXEC
# O_NONBLOCK: opening a FIFO someone left in the workspace must not hang the thread.
_FILE_FLAGS = os.O_NOFOLLOW | os.O_NONBLOCK | _CLOEXEC


def workspace_root(ctx: ToolContext) -> Path:
    """The resolved workspace folder, or a `ToolError` when none is usable."""
    configured = ctx.config.workspace
    if configured is None:
        raise ToolError("no workspace folder is configured; set [tools] workspace in agent-factory.toml")
    try:
        root = Path(configured).expanduser().resolve()
    except RuntimeError:  # how Python 3.12 reports a symlink loop
        raise ToolError(f"the workspace folder {str(configured)!r} is a symlink loop") from None
    except OSError as exc:
        raise ToolError(f"the workspace folder {str(configured)!r} cannot be used: {exc.strerror}") from None
    if not root.is_dir():
        raise ToolError(f"the workspace folder {str(root)!r} does not exist")
    return root


def components(root: Path, path: str) -> list[str]:
    """The names to walk from `root` to `path` (empty for the workspace itself), or a
    `ToolError` when the path is empty or points outside."""
    if not path.strip():
        raise ToolError("the path is empty")
    if "\x00" in path:
        raise ToolError("the path contains a NUL character")
    relative = PurePosixPath(path)
    if relative.is_absolute():
        if not relative.is_relative_to(root):
            raise ToolError(f"path {path!r} is outside the workspace")
        relative = relative.relative_to(root)
    # Text normalisation is exact here: no symlink is ever followed, so `..` means the parent.
    normal = posixpath.normpath(str(relative))
    if normal == ".." or normal.startswith("../"):
        raise ToolError(f"path {path!r} is outside the workspace")
    return [] if normal == "." else normal.split("/")


def _shown(parts: list[str]) -> str:
    """The path as shown back: relative to the workspace, `.` for the workspace itself."""
    return "/".join(parts) or "."


@contextlib.contextmanager
def _folder(root: Path, parts: list[str], path: str, *, create: bool = False) -> Iterator[int]:
    """A handle on the folder `parts` names, walked from `root` without following symlinks;
    missing folders are made when `create` is true."""
    fd = os.open(root, _DIR_FLAGS)  # the workspace itself is the operator's choice, resolved once
    try:
        for name in parts:
            child = _enter(fd, name, path, create)
            os.close(fd)
            fd = child
        yield fd
    finally:
        os.close(fd)


def _enter(parent: int, name: str, path: str, create: bool) -> int:
    """Open the sub-folder `name` of `parent`, making it when asked and missing
    (`FileNotFoundError` when it is missing and may not be made)."""
    try:
        return os.open(name, _DIR_FLAGS, dir_fd=parent)
    except FileNotFoundError:
        if not create:
            raise
    except OSError as exc:
        raise _open_problem(parent, name, path, exc) from None
    try:
        os.mkdir(name, 0o755, dir_fd=parent)
        return os.open(name, _DIR_FLAGS, dir_fd=parent)
    except OSError as exc:
        raise ToolError(f"cannot create the folder for {path!r}: {exc.strerror}") from None


def _open_problem(parent: int, name: str, path: str, exc: OSError) -> ToolError:
    """Why `name` could not be opened, in words: a symlink, the wrong kind, or the OS reason."""
    try:
        mode = os.stat(name, dir_fd=parent, follow_symlinks=False).st_mode
    except OSError:
        mode = 0
    if stat.S_ISLNK(mode):
        return ToolError(f"path {path!r} goes through the symlink {name!r}; the file tools do not follow symlinks")
    if isinstance(exc, NotADirectoryError):
        return ToolError(f"{path!r} is not a folder")
    if isinstance(exc, IsADirectoryError):
        return ToolError(f"{path!r} is a directory")
    return ToolError(f"cannot open {path!r}: {exc.strerror}")


def _open_file(parent: int, name: str, path: str, flags: int) -> int:
    """Open the file `name` in the folder `parent`, never through a symlink."""
    try:
        return os.open(name, flags | _FILE_FLAGS, 0o644, dir_fd=parent)
    except FileNotFoundError:
        raise
    except OSError as exc:
        raise _open_problem(parent, name, path, exc) from None


def _check_file(info: os.stat_result, path: str) -> None:
    """Only plain files with a single link are read or written: another hard link to the same
    file may live outside the workspace."""
    if stat.S_ISDIR(info.st_mode):
        raise ToolError(f"{path!r} is a directory; use list_directory")
    if not stat.S_ISREG(info.st_mode):
        raise ToolError(f"{path!r} is not a regular file")
    if info.st_nlink > 1:
        raise ToolError(f"file {path!r} has {info.st_nlink} hard links; the file tools refuse hard-linked files")


def _read(root: Path, path: str, limit: int) -> str:
    """Read a UTF-8 text file of at most `limit` bytes."""
    parts = components(root, path)
    if not parts:
        raise ToolError(f"{path!r} is a directory; use list_directory")
    try:
        with _folder(root, parts[:-1], path) as parent:
            fd = _open_file(parent, parts[-1], path, os.O_RDONLY)
    except FileNotFoundError:
        raise ToolError(f"file {path!r} does not exist") from None
    try:
        info = os.fstat(fd)  # of the opened file itself, so it cannot change under us
        _check_file(info, path)
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
    """Write `content` as UTF-8, creating parent folders inside the workspace. The file is
    opened without truncating and checked first, so a refused file is left as it was."""
    data = content.encode("utf-8")
    if len(data) > limit:
        raise ToolError(f"the content is {len(data)} bytes; the limit is {limit}")
    parts = components(root, path)
    if not parts:
        raise ToolError(f"{path!r} is a directory")
    try:
        with _folder(root, parts[:-1], path, create=True) as parent:
            fd = _open_file(parent, parts[-1], path, os.O_WRONLY | os.O_CREAT)
    except FileNotFoundError as exc:  # the folder was removed while we walked
        raise ToolError(f"cannot write {path!r}: {exc.strerror}") from None
    try:
        _check_file(os.fstat(fd), path)
        os.ftruncate(fd, 0)
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
    finally:
        os.close(fd)
    return {"path": _shown(parts), "bytes": len(data)}


def _list(root: Path, path: str, limit: int) -> dict[str, Any]:
    """The entries of a folder, sorted by name, at most `limit` of them."""
    parts = components(root, path)
    try:
        with _folder(root, parts, path) as fd:
            names = sorted(os.listdir(fd))
            entries = [_entry(fd, name) for name in names[:limit]]
    except FileNotFoundError:
        raise ToolError(f"folder {path!r} does not exist") from None
    except OSError as exc:
        raise ToolError(f"cannot list {path!r}: {exc.strerror}") from None
    return {"path": _shown(parts), "entries": entries, "truncated": len(names) > limit}


def _entry(folder: int, name: str) -> dict[str, Any]:
    """One listing entry; symlinks are reported as such, never followed."""
    try:
        info = os.stat(name, dir_fd=folder, follow_symlinks=False)
    except FileNotFoundError:  # removed while we listed
        return {"name": name, "type": "other"}
    if stat.S_ISLNK(info.st_mode):
        return {"name": name, "type": "symlink"}
    if stat.S_ISDIR(info.st_mode):
        return {"name": name, "type": "directory"}
    if stat.S_ISREG(info.st_mode):
        return {"name": name, "type": "file", "size": info.st_size}
    return {"name": name, "type": "other"}


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
