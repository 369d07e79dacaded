"""Small-file transfer with a session's scratch folder: ``/session/{id}/files``, upload, download(_single).

The formats and limits are the 23.09 manager's (docs/protocol.md §4.2); the v4 ``/kernel/{id}/...`` paths are
the same handlers. Paths are relative to the scratch folder, which the session sees as ``/home/work``
(absolute paths below ``/home/work`` are accepted too, as on the agent); they may pass through the mount links
of the caller's vfolders but lead nowhere else. Where the real server fails badly, this one answers sanely: a
missing file is 404 ``object-not-found``, too many or too large files are 400 with the limit named, and a path
that leaves the folders is 400. Part filenames are percent-decoded first (aiohttp clients, the official SDK
among them, send ``sub%2Fa.txt`` for ``sub/a.txt``; a real server would keep the ``%2F``).
"""

from __future__ import annotations

import asyncio
import io
import json
import os
import stat
import tarfile
from pathlib import Path, PurePosixPath
from typing import Any, Final

import multidict
from aiohttp import BodyPartReader, MultipartWriter, web

from .context import CONTEXT, REQUEST_ACCESS_KEY
from .endpoint_state import LocalContext
from .params import field, invalid_field, read_json_object, read_params, reject_unknown
from .paths import check_relpath, resolve_in, unquote_filename
from .problems import Problem

__all__ = ["MAX_DOWNLOAD_FILES", "MAX_FILE_SIZE", "MAX_UPLOAD_FILES", "setup_routes"]

#: Limits of the manager and agent: parts per upload, paths per download, bytes per file (or tar archive).
MAX_UPLOAD_FILES: Final = 20
MAX_DOWNLOAD_FILES: Final = 5
MAX_FILE_SIZE: Final = 1 << 20
HOME: Final = PurePosixPath("/home/work")


class _TooLarge(Exception):
    """A tar archive grew past the limit."""


class _LimitedBuffer(io.BytesIO):
    """A memory file that refuses to grow past ``MAX_FILE_SIZE``, so a huge folder costs no memory."""

    def write(self, data: Any, /) -> int:
        if self.tell() + len(data) > MAX_FILE_SIZE:
            raise _TooLarge
        return super().write(data)


def _folders(request: web.Request) -> tuple[Path, list[Path]]:
    """The caller's scratch folder of the session, and the vfolders that may be reached through its links."""
    ctx: LocalContext = request.config_dict[CONTEXT]
    access_key = request.get(REQUEST_ACCESS_KEY, "")
    if ctx.sessions is None:
        raise Problem.not_found("No such session.", msg="The session runtime is not running.")
    workdir = ctx.sessions.workdir_of(access_key, request.match_info["session_name"])
    mounts = []
    if ctx.vfolders is not None:
        for entry in ctx.vfolders.list_for(access_key):
            try:
                mounts.append(ctx.vfolders.path_of(access_key, entry["name"]))
            except Problem:
                continue  # deleted meanwhile
    return workdir, mounts


def _in_home(path: object) -> object:
    """``/home/work/x`` -> ``x``: the session sees its scratch folder there (the CLI lists ``/home/work``)."""
    if isinstance(path, str) and path.startswith("/"):
        parts = path.split("/")
        if parts[1:3] == list(HOME.parts[1:]):
            return "/".join(parts[3:])
    return path  # anything else is checked (and an absolute path refused) by resolve_in


def _locate(request: web.Request, path: object, *, what: str = "path") -> tuple[Path, str]:
    workdir, mounts = _folders(request)
    relpath = _in_home(path)
    located = resolve_in(workdir, relpath, extra_roots=mounts, what=what)
    return located, str(check_relpath(relpath))


def _missing(relpath: str) -> Problem:
    return Problem.not_found("No such file.", msg=f"There is no {str(HOME / relpath)!r} in the session.")


async def _list_files(request: web.Request) -> web.Response:
    params = await read_json_object(request, example='{"path": "."}')
    reject_unknown(params, {"path"})
    path, relpath = _locate(request, params.get("path", "."))
    abspath = str(HOME / relpath)

    def _scan() -> list[dict[str, Any]]:
        files = []
        with os.scandir(path) as scanner:
            for entry in scanner:
                try:
                    st = entry.stat(follow_symlinks=False)
                except OSError:
                    continue  # removed while we listed
                files.append(
                    {
                        "mode": stat.filemode(st.st_mode),
                        "size": st.st_size,
                        "ctime": st.st_ctime,
                        "mtime": st.st_mtime,
                        "atime": st.st_atime,
                        "filename": entry.name,
                    }
                )
        return sorted(files, key=lambda f: str(f["filename"]))

    try:
        files = await asyncio.to_thread(_scan)
    except OSError as exc:
        # as the agent does: the error goes to "errors", and "files" stays decodable
        return web.json_response({"files": "[]", "errors": f"{exc.strerror}: {abspath}", "abspath": abspath})
    return web.json_response({"files": json.dumps(files), "errors": "", "abspath": abspath})


async def _upload(request: web.Request) -> web.Response:
    try:
        reader = await request.multipart()
    except (AssertionError, ValueError, KeyError):
        raise Problem.invalid_params("Send the files as multipart/form-data.") from None
    received: list[tuple[Path, bytes]] = []
    while (part := await reader.next()) is not None:
        if not isinstance(part, BodyPartReader):
            raise Problem.invalid_params("Nested multipart bodies are not accepted; send one part per file.")
        if len(received) == MAX_UPLOAD_FILES:
            raise Problem.invalid_params("Too many files", {"max_files": MAX_UPLOAD_FILES})
        if not part.filename:
            raise Problem.invalid_params(f"Part {part.name!r} has no filename: give the path in the session.")
        try:
            filename = unquote_filename(part.filename)
        except UnicodeDecodeError:
            raise Problem.invalid_params(
                f"Invalid filename {part.filename!r}: not percent-encoded UTF-8."
            ) from None
        path, relpath = _locate(request, filename, what="filename")
        if relpath == ".":
            raise Problem.invalid_params(f"Invalid filename {filename!r}: name a file, not the folder.")
        data = bytearray()
        while chunk := await part.read_chunk(MAX_FILE_SIZE):
            if len(data) + len(chunk) >= MAX_FILE_SIZE:
                raise Problem.invalid_params(
                    "Too large file",
                    {"filename": filename, "limit": f"files must be smaller than {MAX_FILE_SIZE} bytes; "
                     "move large files through a vfolder"},
                )  # fmt: skip
            data += chunk
        received.append((path, bytes(data)))

    def _write() -> None:
        for path, data in received:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)

    try:
        await asyncio.to_thread(_write)  # only once every part is known to be acceptable
    except OSError as exc:
        raise Problem.invalid_params(f"Cannot write the uploaded files: {exc.strerror}.") from exc
    return web.Response(status=204)


async def _download_params(request: web.Request) -> list[str]:
    params = await read_params(request)
    reject_unknown(params, {"files"})
    files: Any = params.get("files")
    if not request.body_exists:  # a query string may repeat the key (tx.MultiKey)
        files = request.query.getall("files", [])
    if isinstance(files, str):
        files = [files]
    if not isinstance(files, list) or not files or not all(isinstance(f, str) for f in files):
        raise invalid_field("files", "give a non-empty list of paths")
    if len(files) > MAX_DOWNLOAD_FILES:
        raise Problem.invalid_params(
            "Too many files", {"files": f"at most {MAX_DOWNLOAD_FILES} paths per request; send several"}
        )
    return files


def _tar(path: Path, arcname: str) -> bytes:
    buffer = _LimitedBuffer()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as archive:
        # the top entry is taken through a mount link; links below it are stored as links, never followed
        archive.add(path.resolve(), arcname=arcname, recursive=True)
    return buffer.getvalue()


async def _download(request: web.Request) -> web.Response:
    files = await _download_params(request)
    located = [_locate(request, f, what="file") for f in files]
    archives = []
    for (path, relpath), requested in zip(located, files, strict=True):
        if not path.exists():
            raise _missing(relpath)
        arcname = PurePosixPath(relpath).name or HOME.name
        try:
            archives.append(await asyncio.to_thread(_tar, path, arcname))
        except _TooLarge:
            raise Problem.invalid_params(
                "Too large file",
                {"file": requested, "limit": f"an archive must fit in {MAX_FILE_SIZE} bytes; use a vfolder"},
            ) from None
        except OSError as exc:
            raise Problem.invalid_params(f"Cannot read {requested!r}: {exc.strerror}.") from exc
    writer = MultipartWriter("mixed")
    for archive in archives:
        writer.append(archive, multidict.CIMultiDict({"Content-Encoding": "identity"}))
    return web.Response(body=writer, status=200)


async def _download_single(request: web.Request) -> web.Response:
    params = await read_params(request)
    reject_unknown(params, {"file"})
    requested = field(params, "file")
    path, relpath = _locate(request, requested, what="file")
    if not path.exists():
        raise _missing(relpath)
    if path.is_dir():
        raise Problem.invalid_params(f"{requested!r} is a directory: download_single sends one file.")
    if not path.is_file():  # reading a FIFO or device could block forever
        raise Problem.invalid_params(f"{requested!r} is not a regular file.")
    size = path.stat().st_size
    if size > MAX_FILE_SIZE:
        raise Problem.invalid_params(
            "Too large file", {"file": requested, "size": size, "limit": MAX_FILE_SIZE}
        )
    body = await asyncio.to_thread(path.read_bytes)
    return web.Response(body=body, content_type="application/octet-stream")


def setup_routes(app: web.Application) -> None:
    """Add the session-file routes (and their v4 ``/kernel`` twins) to the manager app."""
    for prefix in ("/session", "/kernel"):
        base = prefix + "/{session_name}"
        app.router.add_get(base + "/files", _list_files, allow_head=False)
        app.router.add_post(base + "/upload", _upload)
        app.router.add_get(base + "/download", _download, allow_head=False)
        app.router.add_post(base + "/download", _download)
        app.router.add_get(base + "/download_single", _download_single, allow_head=False)
        app.router.add_post(base + "/download_single", _download_single)
