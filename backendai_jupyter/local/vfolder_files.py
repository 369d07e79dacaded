"""File operations inside one vfolder: list, mkdir, rename, move, delete, write an uploaded part, usage.

Every path is relative to the vfolder and checked by ``paths.resolve_in`` first. File-system errors become
400 ``invalid-api-params`` whose ``msg`` names the path and the cause, the way the manager wraps the storage
proxy's errors. Blocking work runs in a thread.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import stat
import uuid
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from aiohttp import BodyPartReader

from .paths import check_relpath, resolve_in
from .problems import Problem
from .vfolder_store import UPLOAD_DIRNAME

__all__ = [
    "delete_entries",
    "fs_problem",
    "list_directory",
    "make_directory",
    "move_entry",
    "not_root",
    "rename_entry",
    "save_part",
    "usage",
]


def fs_problem(exc: OSError, what: str) -> Problem:
    """A file-system error as the manager reports a storage-proxy failure: 400 with the path and cause."""
    reasons = {
        FileNotFoundError: "no such file or directory",
        FileExistsError: "it already exists",
        IsADirectoryError: "it is a directory",
        NotADirectoryError: "it, or a folder on its way, is not a directory",
    }
    reason = next((text for cls, text in reasons.items() if isinstance(exc, cls)), exc.strerror or str(exc))
    return Problem.invalid_params(f"Cannot {what}: {reason}.")


def not_root(path: Path, folder: Path, relpath: str, what: str) -> None:
    """400 when ``path`` is the vfolder itself, which cannot be renamed, moved, deleted or overwritten."""
    if path == folder:
        raise Problem.invalid_params(f"Invalid path {relpath!r}: cannot {what} the vfolder itself.")


def _count_usage(folder: Path) -> tuple[int, int]:
    count = used = 0
    for dirpath, _dirnames, filenames in os.walk(folder):
        for name in filenames:
            try:
                used += (Path(dirpath) / name).lstat().st_size
                count += 1
            except OSError:
                continue  # removed while we counted
    return count, used


async def usage(folder: Path) -> tuple[int, int]:
    """(number of files, bytes used) of the vfolder."""
    return await asyncio.to_thread(_count_usage, folder)


async def make_directory(folder: Path, relpath: str, *, parents: bool, exist_ok: bool) -> None:
    """``mkdir`` of ``relpath`` (with its parents if asked)."""
    path = resolve_in(folder, relpath)
    try:
        await asyncio.to_thread(path.mkdir, 0o755, parents, exist_ok)
    except OSError as exc:
        hint = "; pass exist_ok=true to accept that" if isinstance(exc, FileExistsError) else ""
        raise fs_problem(exc, f"create directory {relpath!r}{hint}") from exc


def _scan(path: Path, *, hide_upload_dir: bool) -> list[tuple[os.DirEntry[str], os.stat_result]]:
    entries = []
    with os.scandir(path) as scanner:
        for entry in scanner:
            if hide_upload_dir and entry.name == UPLOAD_DIRNAME:
                continue  # unfinished uploads are the storage proxy's business
            try:
                entries.append((entry, entry.stat(follow_symlinks=False)))
            except OSError:
                continue  # removed while we listed
    return sorted(entries, key=lambda pair: pair[0].name)


def _iso(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, timezone.utc).isoformat()


async def list_directory(folder: Path, relpath: str) -> dict[str, Any]:
    """The ``GET /folders/{name}/files`` body: ``items`` (23.09) and ``files`` (JSON text, before 22.03)."""
    path = resolve_in(folder, relpath)
    try:
        entries = await asyncio.to_thread(_scan, path, hide_upload_dir=path == folder)
    except OSError as exc:
        raise fs_problem(exc, f"list {relpath!r}") from exc
    items, legacy = [], []
    for entry, st in entries:
        kind = "SYMLINK" if entry.is_symlink() else "DIRECTORY" if stat.S_ISDIR(st.st_mode) else "FILE"
        items.append(
            {
                "name": entry.name,
                "type": kind,
                "size": st.st_size,
                "mode": oct(st.st_mode)[2:][-3:],
                "created": _iso(st.st_ctime),
                "modified": _iso(st.st_mtime),
            }
        )
        legacy.append(
            {
                "filename": entry.name,
                "size": st.st_size,
                "mode": stat.filemode(st.st_mode),
                "ctime": st.st_ctime,
                "atime": 0,
                "mtime": st.st_mtime,
            }
        )
    return {"items": items, "files": json.dumps(legacy)}


async def rename_entry(folder: Path, relpath: str, new_name: str) -> None:
    """Rename ``relpath`` to ``new_name`` in the same directory; never over an existing entry."""
    if len(check_relpath(new_name, what="new_name").parts) != 1:
        raise Problem.invalid_params(f"Invalid new_name {new_name!r}: give a plain name, not a path.")
    source = resolve_in(folder, relpath)
    not_root(source, folder, relpath, "rename")
    destination = resolve_in(folder, (check_relpath(relpath).parent / new_name).as_posix(), what="new_name")

    def _do() -> None:
        if not os.path.lexists(source):
            raise FileNotFoundError
        if os.path.lexists(destination):
            raise FileExistsError
        source.rename(destination)

    try:
        await asyncio.to_thread(_do)
    except OSError as exc:
        raise fs_problem(exc, f"rename {relpath!r} to {new_name!r}") from exc


async def move_entry(folder: Path, src: str, dst: str) -> None:
    """Move ``src`` to ``dst``, or into ``dst`` when it is a directory (like ``mv``); never over an entry."""
    source = resolve_in(folder, src, what="src")
    not_root(source, folder, src, "move")
    destination = resolve_in(folder, dst, what="dst")
    if destination.is_dir():
        destination = resolve_in(folder, (check_relpath(dst) / source.name).as_posix(), what="dst")

    def _do() -> None:
        if not os.path.lexists(source):
            raise FileNotFoundError
        if os.path.lexists(destination):
            raise FileExistsError
        if source.is_dir() and destination.resolve().is_relative_to(source.resolve()):
            raise OSError(0, "a directory cannot move into itself")
        shutil.move(source, destination)

    try:
        await asyncio.to_thread(_do)
    except OSError as exc:
        raise fs_problem(exc, f"move {src!r} to {dst!r}") from exc


async def delete_entries(folder: Path, files: list[str], *, recursive: bool) -> None:
    """Delete every path of ``files`` (directories only with ``recursive``); all are checked first."""
    paths = [(f, resolve_in(folder, f, what="file")) for f in files]
    for relpath, path in paths:
        not_root(path, folder, relpath, "delete")

    def _do(relpath: str, path: Path) -> None:
        if path.is_dir() and not path.is_symlink():
            if not recursive:
                raise Problem.invalid_params(
                    f"Cannot delete {relpath!r}: it is a directory; pass recursive=true to delete it."
                )
            shutil.rmtree(path)
        else:
            path.unlink()

    for relpath, path in paths:
        try:
            await asyncio.to_thread(_do, relpath, path)
        except OSError as exc:
            raise fs_problem(exc, f"delete {relpath!r}") from exc


async def _write_part(part: BodyPartReader, path: Path) -> None:
    """Stream one multipart part into ``path`` (through a temp file, so a cut upload leaves nothing)."""
    temp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.part")
    handle = await asyncio.to_thread(temp.open, "wb")
    try:
        while chunk := await part.read_chunk(1 << 20):
            await asyncio.to_thread(handle.write, chunk)
        handle.close()
        await asyncio.to_thread(os.replace, temp, path)
    except BaseException:
        handle.close()
        temp.unlink(missing_ok=True)
        raise


async def save_part(folder: Path, filename: str, part: BodyPartReader) -> None:
    """Write one uploaded part to ``filename`` (a path in the vfolder), creating its folders."""
    path = resolve_in(folder, filename, what="filename")
    not_root(path, folder, filename, "overwrite")
    try:
        await asyncio.to_thread(path.parent.mkdir, parents=True, exist_ok=True)
        await _write_part(part, path)
    except OSError as exc:
        raise fs_problem(exc, f"write {filename!r}") from exc
