"""The storage-proxy emulation: tus upload and ranged download of vfolder files, authorised by token only.

It is served without Backend.AI auth, on its own base URL (``ctx.storage_url``), as the real storage proxy's
client API is (docs/protocol.md §7.1-7.2). Everything is streamed: memory use does not grow with file size.

Decisions where the real proxy is silent or careless:

- A zero-byte upload is complete as soon as it is requested: ``request-upload`` with ``size=0`` creates the
  empty file at once (aiotusclient sends no PATCH for an empty file). HEAD on such a session answers offset 0,
  and one empty PATCH (what other tus clients send) finalises it again, under ``dst_dir`` if one is given.
- A PATCH whose ``Upload-Offset`` header differs from the current offset gets 409 (the tus rule), so that a
  retried chunk can never be appended twice; clients re-read the offset with HEAD, as the SDK does anyway.
- ``archive`` may come from the query (as the proxy reads it) or from the ``request-download`` ticket.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
import os
import threading
import urllib.parse
import uuid
import weakref
import zipfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Final, Literal

from aiohttp import web
from aiohttp.typedefs import Handler

from .._version import __version__
from .context import CONTEXT, UPLOAD_LOCKS
from .endpoint_state import LocalContext
from .params import parse_bool
from .paths import check_relpath, is_within, resolve_in
from .problems import Problem, problem_response
from .tokens import (
    StorageToken,
    ensure_token_secret,
    issue_download_token,
    issue_upload_token,
    read_token,
    storage_problem,
)
from .vfolder_store import UPLOAD_DIRNAME, vfolder_dir

__all__ = [
    "TUS_MAX_SIZE",
    "content_disposition",
    "create_app",
    "file_response",
    "prepare_download",
    "prepare_upload",
    "zip_response",
]

log = logging.getLogger(__name__)

#: What ``OPTIONS /upload`` advertises (the proxy's ``max-upload-size`` default, 100 GiB).
TUS_MAX_SIZE: Final = 100 * 2**30

_WRITE_CHUNK: Final = 1 << 20  # bytes gathered before one write to disk
_ZIP_CHUNK: Final = 256 << 10  # bytes of zip stream per response write
_ZIP_QUEUE: Final = 8  # zip chunks in flight between the zipping thread and the response
_TUS_HEADER_NAMES: Final = "Tus-Resumable, Upload-Length, Upload-Metadata, Upload-Offset, Content-Type"
_TUS_CORS: Final = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Headers": _TUS_HEADER_NAMES,
    "Access-Control-Expose-Headers": _TUS_HEADER_NAMES,
    "Access-Control-Allow-Methods": "*",
}
# disk writes of uploads run here; its futures can be waited for even while the handler is being cancelled
_WRITER: Final = concurrent.futures.ThreadPoolExecutor(max_workers=4, thread_name_prefix="bai-storage-write")


def _upload_temp(root: Path, session: str) -> Path:
    return root / UPLOAD_DIRNAME / session


def _create_temp(temp: Path) -> None:
    """Create an empty temp file; a finishing upload may remove the empty folder in between, so try twice."""
    for attempt in (1, 2):
        temp.parent.mkdir(exist_ok=True)
        try:
            temp.open("xb").close()
            return
        except FileNotFoundError:
            if attempt == 2:
                raise


# ---------------------------------------------------------------------------------------------------------
# tickets, issued through the manager's request-upload / request-download


async def prepare_upload(ctx: LocalContext, *, vfid: str, relpath: str, size: int) -> str:
    """Open an upload session for ``size`` bytes to ``relpath`` of vfolder ``vfid``; return its token."""
    if size < 0:
        raise Problem.invalid_params(f"Invalid size {size}: the size of a file cannot be negative.")
    root = vfolder_dir(ctx.data_dir, vfid)
    target = resolve_in(root, relpath)
    if target == root or target.is_dir():
        raise Problem.invalid_params(f"Invalid path {relpath!r}: it is a directory; name the file to upload.")
    session = uuid.uuid4().hex

    def _create() -> None:
        temp = _upload_temp(root, session)
        if size == 0:  # complete already: see the module docstring
            target.parent.mkdir(parents=True, exist_ok=True)
            target.open("wb").close()
        else:
            _create_temp(temp)

    try:
        await asyncio.to_thread(_create)
    except OSError as exc:
        raise Problem.invalid_params(f"Cannot upload to {relpath!r}: {exc.strerror}.") from exc
    return issue_upload_token(
        ensure_token_secret(ctx), vfid=vfid, relpath=str(check_relpath(relpath)), size=size, session=session
    )


def prepare_download(ctx: LocalContext, *, vfid: str, relpath: str, archive: bool) -> str:
    """A download token for ``relpath`` of vfolder ``vfid`` (existence is checked when it is used)."""
    resolve_in(vfolder_dir(ctx.data_dir, vfid), relpath)
    return issue_download_token(
        ensure_token_secret(ctx), vfid=vfid, relpath=str(check_relpath(relpath)), archive=archive
    )


# ---------------------------------------------------------------------------------------------------------
# responses shared with the legacy vfolder routes


def content_disposition(filename: str) -> str:
    """``attachment`` with an ASCII fallback and the RFC 5987 UTF-8 name, as the proxy sends it."""
    ascii_name = "".join(c for c in filename if " " <= c < "\x7f").replace("\\", "\\\\").replace('"', '\\"')
    quoted = urllib.parse.quote(filename, encoding="utf-8")
    return f"attachment;filename=\"{ascii_name}\"; filename*=UTF-8''{quoted}"


def file_response(path: Path, *, no_cache: bool = False) -> web.FileResponse:
    """A streamed file with Range / If-Range / Last-Modified support (aiohttp does those)."""
    headers = {
        "Content-Type": "application/octet-stream",
        "Content-Disposition": content_disposition(path.name),
    }
    if no_cache:
        headers["Cache-Control"] = "no-store"
    return web.FileResponse(path, chunk_size=256 << 10, headers=headers)


class _Aborted(Exception):
    """The response side went away; the zipping thread stops."""


class _ChunkSink:
    """A write-only file for ``zipfile`` that hands out the stream in chunks."""

    def __init__(self, put: Callable[[bytes], None]) -> None:
        self._put = put
        self._buffer = bytearray()

    def write(self, data: bytes, /) -> int:
        self._buffer += data
        if len(self._buffer) >= _ZIP_CHUNK:
            self.drain()
        return len(data)

    def drain(self) -> None:
        """Hand out what is buffered."""
        if self._buffer:
            chunk = bytes(self._buffer)
            self._buffer.clear()
            self._put(chunk)

    def flush(self) -> None:
        """Nothing to do: chunks leave on ``write`` and ``drain``."""

    def close(self) -> None:
        """Nothing to do: the caller drains."""


def _zip_tree(directory: Path, roots: Sequence[Path], sink: _ChunkSink) -> None:
    """Write ``directory`` as a zip to ``sink``; links that lead outside ``roots`` are left out."""
    allowed = [root.resolve() for root in roots]
    with zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1, allowZip64=True) as zf:
        for dirpath, dirnames, filenames in os.walk(directory):
            here = Path(dirpath)
            rel = here.relative_to(directory)
            dirnames.sort()
            for name in sorted(filenames):
                path = here / name
                if not path.is_file():  # a FIFO or socket would block the reader forever
                    continue
                if path.is_symlink():
                    resolved = path.resolve()
                    if not any(is_within(resolved, root) for root in allowed):
                        log.info("zip of %s: leaving out link %s that leads outside", directory, path)
                        continue
                zf.write(path, arcname=(rel / name).as_posix())
            if not dirnames and not filenames and here != directory:
                zf.write(here, arcname=rel.as_posix() + "/")
    sink.drain()


async def zip_response(
    request: web.Request, directory: Path, *, roots: Sequence[Path], filename: str
) -> web.StreamResponse:
    """Stream ``directory`` as ``application/zip``, zipped in a thread, with a bounded buffer in between."""
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[bytes | BaseException | None] = asyncio.Queue(maxsize=_ZIP_QUEUE)
    stop = threading.Event()

    def put(item: bytes | BaseException | None) -> None:
        if stop.is_set():
            raise _Aborted
        future = asyncio.run_coroutine_threadsafe(queue.put(item), loop)
        while True:
            try:
                future.result(timeout=0.1)
                return
            except concurrent.futures.TimeoutError:
                if stop.is_set():  # nobody reads any more
                    future.cancel()
                    raise _Aborted from None

    def produce() -> None:
        try:
            _zip_tree(directory, roots, _ChunkSink(put))
            put(None)
        except _Aborted:
            return
        except Exception as exc:
            log.warning("zip of %s failed: %s", directory, exc)
            try:
                put(exc)
            except _Aborted:
                return

    response = web.StreamResponse(
        headers={"Content-Type": "application/zip", "Content-Disposition": content_disposition(filename)}
    )
    await response.prepare(request)
    producer = loop.run_in_executor(None, produce)
    try:
        while (item := await queue.get()) is not None:
            if isinstance(item, BaseException):
                raise item  # the client sees a cut stream, not a valid-looking truncated zip
            await response.write(item)
        await response.write_eof()
    finally:
        stop.set()
        await producer
    return response


# ---------------------------------------------------------------------------------------------------------
# the client API


def _in_storage(problem: Problem) -> Problem:
    """A manager-style parameter problem restated with the storage proxy's type."""
    return storage_problem(
        400, "invalid-api-params", "Invalid API parameters", msg=problem.msg, data=problem.data
    )


def _query(request: web.Request, allowed: frozenset[str]) -> dict[str, str]:
    extra = {key: f"{key} is not allowed key" for key in request.query if key not in allowed}
    if "token" not in request.query:
        extra["token"] = "is required"
    if extra:
        raise storage_problem(400, "invalid-api-params", "Invalid API parameters", data=extra)
    return {key: request.query[key] for key in request.query}


def _flag(params: dict[str, str], key: str) -> bool:
    try:
        return parse_bool(params.get(key, False))
    except ValueError as exc:
        raise _in_storage(Problem.invalid_params(str(exc))) from None


def _token(
    request: web.Request, params: dict[str, str], *, op: Literal["upload", "download"]
) -> tuple[StorageToken, Path]:
    ctx = request.config_dict[CONTEXT]
    token = read_token(ensure_token_secret(ctx), params["token"], op=op)
    return token, vfolder_dir(ctx.data_dir, token.vfid)


def _locate(root: Path, dst_dir: str | None, relpath: str) -> Path:
    try:
        base = check_relpath(dst_dir or "", what="dst_dir")
        return resolve_in(root, (base / check_relpath(relpath)).as_posix())
    except Problem as exc:
        raise _in_storage(exc) from exc


def _no_session() -> Problem:
    return storage_problem(404, "no-such-upload-session", "No such upload session")


def _tus_headers(offset: int, length: int) -> dict[str, str]:
    return {
        **_TUS_CORS,
        "Cache-Control": "no-store",
        "Tus-Resumable": "1.0.0",
        "Upload-Offset": str(offset),
        "Upload-Length": str(length),
    }


async def _status(request: web.Request) -> web.Response:
    _ = request
    return web.json_response({"status": "ok", "type": "client-facing", "storage-proxy": __version__})


async def _tus_options(request: web.Request) -> web.Response:
    _ = request
    headers = {
        **_TUS_CORS,
        "Tus-Resumable": "1.0.0",
        "Tus-Version": "1.0.0",
        "Tus-Max-Size": str(TUS_MAX_SIZE),
        "X-Content-Type-Options": "nosniff",
    }
    return web.Response(headers=headers)


async def _tus_head(request: web.Request) -> web.Response:
    params = _query(request, frozenset({"token", "dst_dir"}))
    token, root = _token(request, params, op="upload")
    try:
        offset = _upload_temp(root, token.session).stat().st_size
    except FileNotFoundError:
        if token.size != 0:
            raise _no_session() from None
        offset = 0
    return web.Response(headers=_tus_headers(offset, token.size))


async def _append(request: web.Request, temp: Path) -> None:
    """Append the request body to ``temp``, streamed, keeping whatever arrived if the client is cut off."""
    loop = asyncio.get_running_loop()
    handle = await loop.run_in_executor(_WRITER, temp.open, "ab")
    pending: concurrent.futures.Future[int] | None = None
    buffer = bytearray()
    try:
        async for data in request.content.iter_any():
            buffer += data
            if len(buffer) >= _WRITE_CHUNK:
                if pending is not None:
                    await asyncio.shield(asyncio.wrap_future(pending))
                pending = _WRITER.submit(handle.write, bytes(buffer))
                buffer.clear()
    finally:
        # also on a cut connection or a cancelled handler: bytes received are kept, in order, so HEAD is true
        try:
            if pending is not None:
                pending.result()
            if buffer:
                handle.write(buffer)
        finally:
            handle.close()


async def _tus_patch(request: web.Request) -> web.Response:
    params = _query(request, frozenset({"token", "dst_dir"}))
    token, root = _token(request, params, op="upload")
    target = _locate(root, params.get("dst_dir"), token.relpath)
    temp = _upload_temp(root, token.session)
    locks = request.app[UPLOAD_LOCKS]
    if (lock := locks.get(token.session)) is None:
        lock = locks[token.session] = asyncio.Lock()
    async with lock:
        if not temp.exists():
            if token.size != 0 or not root.is_dir():
                raise _no_session()
            _create_temp(temp)
        offset = temp.stat().st_size
        claimed = request.headers.get("Upload-Offset")
        if claimed is not None and claimed.strip() != str(offset):
            raise storage_problem(
                409,
                "upload-offset-mismatch",
                "Upload-Offset mismatch",
                msg=f"The upload is at offset {offset}, not {claimed!r}: resume from the offset of HEAD.",
            )
        await _append(request, temp)
        offset = temp.stat().st_size
        if offset >= token.size:
            await asyncio.to_thread(_finalise, temp, target)
    return web.Response(status=204, headers=_tus_headers(offset, token.size))


def _finalise(temp: Path, target: Path) -> None:
    if target.is_dir():
        raise storage_problem(
            400, "invalid-api-params", "Invalid API parameters", msg=f"{target.name!r} is a directory."
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    os.replace(temp, target)
    with contextlib.suppress(OSError):
        temp.parent.rmdir()  # only when no other upload is under way


async def _download(request: web.Request) -> web.StreamResponse:
    params = _query(request, frozenset({"token", "dst_dir", "archive", "no_cache"}))
    token, root = _token(request, params, op="download")
    path = _locate(root, params.get("dst_dir"), token.relpath)
    if not path.exists():
        raise storage_problem(
            404, "file-not-found", "File not found", msg=f"{token.relpath!r} does not exist."
        )
    if path.is_dir():
        if _flag(params, "archive") or token.archive:
            name = path.name if path != root else "vfolder"
            return await zip_response(request, path, roots=[root], filename=name + ".zip")
        raise storage_problem(
            400,
            "invalid-api-params",
            "Invalid API parameters",
            msg=f"{token.relpath!r} is not a regular file: download a directory with archive=true.",
        )
    if not path.is_file():  # FIFOs, sockets, devices: reading them could block forever
        raise storage_problem(
            400,
            "invalid-api-params",
            "Invalid API parameters",
            msg=f"{token.relpath!r} is not a regular file.",
        )
    return file_response(path, no_cache=_flag(params, "no_cache"))


@web.middleware
async def _problems(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except Problem as problem:
        return problem_response(problem)


def create_app(ctx: LocalContext) -> web.Application:
    """The storage-proxy client API (``/upload``, ``/download``); serve it unauthenticated on its own port."""
    ensure_token_secret(ctx)
    app = web.Application(middlewares=[_problems])
    app[CONTEXT] = ctx
    app[UPLOAD_LOCKS] = weakref.WeakValueDictionary()
    app.router.add_get("/", _status)
    upload = app.router.add_resource("/upload")
    upload.add_route("OPTIONS", _tus_options)
    upload.add_route("HEAD", _tus_head)
    upload.add_route("PATCH", _tus_patch)
    app.router.add_get("/download", _download, allow_head=False)
    return app
