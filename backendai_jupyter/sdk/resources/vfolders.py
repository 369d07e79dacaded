"""Virtual folders: management, listing, and resumable transfers through the storage proxy (tus / Range)."""

from __future__ import annotations

import asyncio
import builtins
import functools
import os
import re
from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from os import PathLike
from pathlib import Path, PurePosixPath
from typing import IO, TYPE_CHECKING, Any, Literal

import aiohttp

from .. import versioning
from .._constants import UPLOAD_FIRST_BACKOFF
from .._facade import SyncResource, sync_method
from ..errors import BackendClientError, BackendConnectionError, NotFoundError
from ..retry import is_transient_transfer_error, transfer_backoff
from ..types import TransferProgress, VFolderFile, VFolderHosts, VFolderInfo
from ._util import Sleep, quote_segment, relative_name, safe_relpath

if TYPE_CHECKING:
    from ..client import AsyncClient

__all__ = [
    "DEFAULT_CHUNK_SIZE",
    "MAX_TRANSFER_ATTEMPTS",
    "ProgressCallback",
    "SyncVFolders",
    "VFolders",
]

ProgressCallback = Callable[[TransferProgress], None]

#: One tus PATCH request carries this much (the official SDK's chunk size).
DEFAULT_CHUNK_SIZE = 16 * 1024 * 1024
#: Disk reads and writes happen in pieces of this size, so memory stays constant.
PIECE_SIZE = 1024 * 1024
#: Consecutive failed attempts after which a transfer gives up.
MAX_TRANSFER_ATTEMPTS = 20
#: The legacy multipart upload takes at most this many files per request.
LEGACY_UPLOAD_FILES_PER_REQUEST = 10
TUS_VERSION = "1.0.0"
_CONTENT_RANGE = re.compile(r"^bytes (\d+)-(\d+)/(\d+|\*)$")


class _IncompleteTransfer(ConnectionError):
    """The server closed a body before its announced end."""


class VFolders:
    """Virtual folders of the current user (``/folders``)."""

    def __init__(
        self,
        client: AsyncClient,
        *,
        sleep: Sleep | None = None,
        max_attempts: int = MAX_TRANSFER_ATTEMPTS,
    ) -> None:
        self._client = client
        self._sleep: Sleep = sleep or client.sleep
        self._max_attempts = max_attempts

    @staticmethod
    def _path(name: str, *tail: str) -> str:
        return "/".join(["/folders", quote_segment(name), *tail])

    async def _legacy_names(self) -> bool:
        """Whether to use the underscore route names of older managers (``rename_file``...)."""
        await self._client.negotiate()
        return self._client.api_version_tuple < (7, "20230615")

    # -- management ---------------------------------------------------------------------------------

    async def list(self, *, group_id: str | None = None) -> tuple[VFolderInfo, ...]:
        """The vfolders this user can access."""
        params = {"group_id": group_id} if group_id else None
        resp = await self._client.request("GET", "/folders", params=params)
        data = resp.json()
        return (
            tuple(VFolderInfo.from_api(r) for r in data if isinstance(r, Mapping))
            if isinstance(data, list)
            else ()
        )

    async def create(
        self,
        name: str,
        *,
        host: str | None = None,
        usage_mode: Literal["general", "model", "data"] | None = None,
        permission: Literal["ro", "rw", "wd"] | None = None,
        group: str | None = None,
        quota: str | int | None = None,
        cloneable: bool | None = None,
    ) -> VFolderInfo:
        """Create a vfolder; fields left as None are not sent (the server picks its defaults)."""
        await self._client.negotiate()
        body: dict[str, Any] = {"name": name}
        optional = {
            "host": host,
            "usage_mode": usage_mode,
            "permission": permission,
            "group": group,
            "quota": quota,
            "cloneable": cloneable,
        }
        for key, value in optional.items():
            if value is None:
                continue
            if self._client.api_version_tuple[0] <= 4 and key not in ("host", "group"):
                raise BackendClientError(
                    f"{key}= needs API v5 or newer, but the server speaks "
                    f"{self._client.api_version}; remove {key}="
                )
            body[key] = value
        resp = await self._client.request("POST", "/folders", json=body)
        data = resp.json() if resp.body else {}
        return VFolderInfo.from_api(data if isinstance(data, Mapping) else {}, name=name)

    async def info(self, name: str) -> VFolderInfo:
        """Details of one vfolder."""
        resp = await self._client.request("GET", self._path(name))
        data = resp.json()
        return VFolderInfo.from_api(data if isinstance(data, Mapping) else {}, name=name)

    async def delete(self, name: str) -> None:
        """Delete a vfolder (from v8 it moves to the trash and the name stays taken until purged)."""
        await self._client.request("DELETE", self._path(name))

    async def hosts(self) -> VFolderHosts:
        """The storage hosts this user may create vfolders on."""
        resp = await self._client.request("GET", "/folders/_/hosts")
        data = resp.json()
        return VFolderHosts.from_api(data if isinstance(data, Mapping) else {})

    list_hosts = hosts

    async def rename(self, name: str, new_name: str) -> None:
        """Rename a vfolder (owner only)."""
        await self._client.request("POST", self._path(name, "rename"), json={"new_name": new_name})

    # -- files inside a vfolder ---------------------------------------------------------------------

    async def ls(self, name: str, path: str = "") -> tuple[VFolderFile, ...]:
        """Entries of a directory in the vfolder (``""`` is its root)."""
        resp = await self._client.request("GET", self._path(name, "files"), params={"path": path})
        data = resp.json()
        return VFolderFile.parse_listing(data) if isinstance(data, Mapping) else ()

    async def mkdir(self, name: str, path: str, *, parents: bool = False, exist_ok: bool = False) -> None:
        """Create a directory in the vfolder."""
        body = {"path": safe_relpath(path, what="directory"), "parents": parents, "exist_ok": exist_ok}
        await self._client.request("POST", self._path(name, "mkdir"), json=body)

    async def rename_file(self, name: str, target_path: str, new_name: str, *, is_dir: bool = False) -> None:
        """Rename a file or directory in place (``new_name`` is a base name)."""
        route = "rename_file" if await self._legacy_names() else "rename-file"
        body = {"target_path": safe_relpath(target_path, what="path"), "new_name": new_name, "is_dir": is_dir}
        await self._client.request("POST", self._path(name, route), json=body)

    async def move_file(self, name: str, src: str, dst: str) -> None:
        """Move a file or directory inside the vfolder."""
        body = {"src": safe_relpath(src, what="source path"), "dst": safe_relpath(dst, what="destination")}
        await self._client.request("POST", self._path(name, "move-file"), json=body)

    async def delete_files(self, name: str, paths: Sequence[str], *, recursive: bool = False) -> None:
        """Delete files (and directories with ``recursive``) in the vfolder."""
        route = "delete_files" if await self._legacy_names() else "delete-files"
        body = {"files": [safe_relpath(p, what="path") for p in paths], "recursive": recursive}
        await self._client.request("DELETE", self._path(name, route), json=body)

    # -- upload ---------------------------------------------------------------------------------------

    async def upload(
        self,
        name: str,
        local_paths: Sequence[str | PathLike[str]],
        *,
        basedir: str | PathLike[str] | None = None,
        dst_dir: str | None = None,
        progress: ProgressCallback | None = None,
        chunk_size: int = DEFAULT_CHUNK_SIZE,
    ) -> builtins.list[str]:
        """Upload local files (directories recursively); returns the remote paths written.

        Each file streams from disk in ``chunk_size`` tus PATCH requests; a broken connection resumes
        from the offset the storage proxy reports, so nothing is sent twice.
        """
        if chunk_size < 1:
            raise BackendClientError(f"chunk_size={chunk_size} must be a positive number of bytes")
        base = Path(basedir) if basedir is not None else None
        prefix = safe_relpath(dst_dir, what="dst_dir") if dst_dir not in (None, "", ".", "/") else None
        plan: builtins.list[tuple[Path, str]] = []
        for item in local_paths:
            for local, remote in _expand_local(Path(item), base):
                plan.append((local, f"{prefix}/{remote}" if prefix else remote))
        await self._client.negotiate()
        if not versioning.uses_storage_proxy(self._client.api_version_tuple):
            await self._legacy_upload(name, plan, progress)
            return [remote for _, remote in plan]
        for local, remote in plan:
            await self._tus_upload(name, local, remote, progress=progress, chunk_size=chunk_size)
        return [remote for _, remote in plan]

    async def _tus_upload(
        self,
        name: str,
        local: Path,
        remote: str,
        *,
        progress: ProgressCallback | None,
        chunk_size: int,
    ) -> None:
        size = (await asyncio.to_thread(local.stat)).st_size
        resp = await self._client.request(
            "POST", self._path(name, "request-upload"), json={"path": remote, "size": size}, idempotent=True
        )
        ticket = resp.json()
        url, params = _ticket(ticket, "upload")

        def report(done: int) -> None:
            if progress is not None:
                progress(TransferProgress(done=done, total=size, path=remote))

        offset = 0
        handed = 0  # bytes handed to the connection so far, acknowledged or not
        sent_any = False
        failures = 0
        must_ask = False
        report(0)

        def sent(n: int, *, start: int) -> None:
            nonlocal handed
            handed = start + n
            report(handed)

        with await asyncio.to_thread(open, local, "rb") as source:
            while True:
                try:
                    if must_ask:
                        resumed = await self._tus_resume_offset(url, params, all_handed=handed >= size)
                        if resumed is None:
                            report(size)
                            break
                        offset, must_ask = resumed, False
                        report(offset)
                    if offset >= size and (size > 0 or sent_any):
                        break
                    offset = await self._tus_patch(
                        url,
                        params,
                        source,
                        offset=offset,
                        length=min(chunk_size, size - offset),
                        sent=functools.partial(sent, start=offset),
                    )
                    sent_any = True
                    failures = 0
                    report(offset)
                    if offset >= size:
                        break
                except Exception as exc:
                    if not is_transient_transfer_error(exc):
                        raise
                    failures += 1
                    if failures >= self._max_attempts:
                        raise BackendConnectionError(
                            f"upload of {str(local)!r} to vfolder {name!r} failed {failures} times in a row "
                            f"at byte {offset} of {size}: {exc}; run the upload again later"
                        ) from exc
                    # a longer first pause than downloads: the proxy must notice the broken PATCH and
                    # finish appending its bytes before HEAD reports a stable offset
                    await self._sleep(transfer_backoff(failures - 1, initial=UPLOAD_FIRST_BACKOFF))
                    must_ask = True

    async def _tus_patch(
        self,
        url: str,
        params: Mapping[str, str],
        source: IO[bytes],
        *,
        offset: int,
        length: int,
        sent: Callable[[int], None],
    ) -> int:
        """Send ``length`` bytes of ``source`` from ``offset`` in one tus PATCH; return the new offset."""
        headers = {
            "Tus-Resumable": TUS_VERSION,
            "Upload-Offset": str(offset),
            "Content-Type": "application/offset+octet-stream",
            "Content-Length": str(length),
        }
        body = _read_range(source, offset, length, sent)
        async with self._client.raw("PATCH", url, params=params, headers=headers, data=body) as r:
            reported = r.headers.get("Upload-Offset")
        return int(reported) if reported and reported.isdigit() else offset + length

    async def _tus_resume_offset(
        self, url: str, params: Mapping[str, str], *, all_handed: bool
    ) -> int | None:
        """Where to go on after a failure: the proxy's offset, or None when the upload is already complete."""
        try:
            return await self._tus_offset(url, params)
        except NotFoundError:
            # the proxy forgets an upload once it is complete: the reply to the last PATCH was lost,
            # but every byte had been handed over
            if all_handed:
                return None
            raise

    async def _tus_offset(self, url: str, params: Mapping[str, str]) -> int:
        """How many bytes the storage proxy holds for this upload (tus HEAD)."""
        async with self._client.raw("HEAD", url, params=params, headers={"Tus-Resumable": TUS_VERSION}) as r:
            value = r.headers.get("Upload-Offset", "")
        if not value.isdigit():
            raise BackendClientError(f"the storage proxy sent no usable Upload-Offset ({value!r}) for {url}")
        return int(value)

    async def _legacy_upload(
        self, name: str, plan: builtins.list[tuple[Path, str]], progress: ProgressCallback | None
    ) -> None:
        """Multipart ``POST /folders/{n}/upload`` of v4/v5 servers (no resume)."""
        for start in range(0, len(plan), LEGACY_UPLOAD_FILES_PER_REQUEST):
            batch = plan[start : start + LEGACY_UPLOAD_FILES_PER_REQUEST]
            form = aiohttp.FormData(quote_fields=False)  # keep "dir/name" intact for the server
            handles: builtins.list[IO[bytes]] = []
            try:
                for local, remote in batch:
                    handle: IO[bytes] = await asyncio.to_thread(open, local, "rb")
                    handles.append(handle)
                    form.add_field("src", handle, filename=remote, content_type="application/octet-stream")
                await self._client.request("POST", self._path(name, "upload"), data=form)
            finally:
                for handle in handles:
                    handle.close()
            if progress is not None:
                for local, remote in batch:
                    size = local.stat().st_size
                    progress(TransferProgress(done=size, total=size, path=remote))

    # -- download -------------------------------------------------------------------------------------

    async def download(
        self,
        name: str,
        remote_paths: Sequence[str],
        *,
        dest: str | PathLike[str] = ".",
        archive: bool = False,
        progress: ProgressCallback | None = None,
        overwrite: bool = False,
    ) -> builtins.list[Path]:
        """Download files (directories as zip with ``archive=True``) into ``dest``; returns the local paths.

        Each file is written to ``<dest>/.<name>.part`` and renamed when complete; a broken connection
        resumes with a Range request. On failure no partial file is left behind.
        """
        target_dir = Path(dest)
        await asyncio.to_thread(target_dir.mkdir, parents=True, exist_ok=True)
        await self._client.negotiate()
        modern = versioning.uses_storage_proxy(self._client.api_version_tuple)
        written: builtins.list[Path] = []
        for remote in remote_paths:
            rel = safe_relpath(remote, what="remote path")
            base = PurePosixPath(rel).name
            final = target_dir / base
            _refuse_existing(final, overwrite)
            part = target_dir / f".{base}.part"
            try:
                if modern:
                    is_zip = await self._ranged_download(name, rel, part, archive=archive, progress=progress)
                else:
                    is_zip = await self._legacy_download(name, rel, part, archive=archive, progress=progress)
                if is_zip and archive and not final.name.endswith(".zip"):
                    final = final.with_name(final.name + ".zip")
                    _refuse_existing(final, overwrite)
                os.replace(part, final)
            except BaseException:
                part.unlink(missing_ok=True)
                raise
            written.append(final)
        return written

    async def _ranged_download(
        self,
        name: str,
        remote: str,
        part: Path,
        *,
        archive: bool,
        progress: ProgressCallback | None,
    ) -> bool:
        """GET from the storage proxy into ``part``, resuming with Range/If-Range; True if it is a zip."""
        resp = await self._client.request(
            "POST",
            self._path(name, "request-download"),
            json={"path": remote, "archive": archive},
            idempotent=True,
        )
        url, params = _ticket(resp.json(), "download")
        if archive:
            params["archive"] = "true"
        got = 0
        total: int | None = None
        validator: str | None = None
        failures = 0
        is_zip = False
        with await asyncio.to_thread(open, part, "wb") as out:
            while True:
                headers: dict[str, str] = {}
                if got:
                    headers["Range"] = f"bytes={got}-"
                    if validator:
                        headers["If-Range"] = validator
                try:
                    async with self._client.raw("GET", url, params=params, headers=headers) as r:
                        start = _range_start(r) if r.status == 206 else 0
                        if start != got:
                            # 200 (file changed, or no range support) or an unexpected range: start over
                            got = 0
                            await asyncio.to_thread(_truncate, out)
                        total = _total_length(r, got)
                        validator = r.headers.get("Last-Modified") or r.headers.get("ETag")
                        is_zip = r.headers.get("Content-Type", "").startswith("application/zip")
                        async for piece in r.content.iter_chunked(PIECE_SIZE):
                            await asyncio.to_thread(out.write, piece)
                            got += len(piece)
                            failures = 0
                            if progress is not None:
                                progress(TransferProgress(done=got, total=total, path=remote))
                    if total is not None and got < total:
                        raise _IncompleteTransfer(f"got {got} of {total} bytes")
                    break
                except Exception as exc:
                    if not is_transient_transfer_error(exc):
                        raise
                    failures += 1
                    if failures >= self._max_attempts:
                        raise BackendConnectionError(
                            f"download of {remote!r} from vfolder {name!r} failed {failures} times in a row "
                            f"at byte {got}: {exc}; run the download again later"
                        ) from exc
                    await asyncio.to_thread(out.flush)
                    await self._sleep(transfer_backoff(failures - 1))
        return is_zip

    async def _legacy_download(
        self,
        name: str,
        remote: str,
        part: Path,
        *,
        archive: bool,
        progress: ProgressCallback | None,
    ) -> bool:
        """``GET /folders/{n}/download_single`` of v4/v5 servers (no resume)."""
        params = {"file": remote, "archive": "true" if archive else "false"}
        got = 0
        is_zip = False
        with await asyncio.to_thread(open, part, "wb") as out:
            async with self._client.stream("GET", self._path(name, "download_single"), params=params) as r:
                is_zip = r.headers.get("Content-Type", "").startswith("application/zip")
                total = r.content_length
                async for piece in r.content.iter_chunked(PIECE_SIZE):
                    await asyncio.to_thread(out.write, piece)
                    got += len(piece)
                    if progress is not None:
                        progress(TransferProgress(done=got, total=total, path=remote))
        return is_zip


def _ticket(data: Any, op: str) -> tuple[str, dict[str, str]]:
    """The storage-proxy URL and query of a request-upload/request-download reply."""
    if not isinstance(data, Mapping) or not isinstance(data.get("url"), str) or "token" not in data:
        raise BackendClientError(f"the request-{op} reply has no url/token: keys {sorted(data or {})!r}")
    return data["url"], {"token": str(data["token"])}


def _expand_local(local: Path, base: Path | None) -> Iterator[tuple[Path, str]]:
    """Files to upload for one argument: the file itself, or every file under a directory."""
    if local.is_file():
        yield local, relative_name(local, base)
    elif local.is_dir():
        root = base if base is not None else local.parent
        for path in sorted(p for p in local.rglob("*") if p.is_file()):
            yield path, relative_name(path, root)
    else:
        raise BackendClientError(f"cannot upload {str(local)!r}: no such file or directory")


async def _read_range(
    source: IO[bytes], offset: int, length: int, sent: Callable[[int], None]
) -> AsyncIterator[bytes]:
    """Stream ``length`` bytes of ``source`` from ``offset`` in pieces, reporting bytes handed over."""
    await asyncio.to_thread(source.seek, offset)
    done = 0
    while done < length:
        piece = await asyncio.to_thread(source.read, min(PIECE_SIZE, length - done))
        if not piece:
            raise BackendClientError(f"the file shrank while uploading: expected {length - done} more bytes")
        yield piece
        done += len(piece)
        sent(done)


def _refuse_existing(final: Path, overwrite: bool) -> None:
    if not overwrite and final.exists():
        raise BackendClientError(f"{str(final)!r} already exists; pass overwrite=True or choose another dest")


def _truncate(out: IO[bytes]) -> None:
    out.seek(0)
    out.truncate()


def _range_start(resp: aiohttp.ClientResponse) -> int:
    match = _CONTENT_RANGE.match(resp.headers.get("Content-Range", ""))
    return int(match.group(1)) if match else -1


def _total_length(resp: aiohttp.ClientResponse, start: int) -> int | None:
    match = _CONTENT_RANGE.match(resp.headers.get("Content-Range", ""))
    if match and match.group(3) != "*":
        return int(match.group(3))
    length = resp.content_length
    return None if length is None else start + length


class SyncVFolders(SyncResource[VFolders]):
    """The blocking twin of ``VFolders``, running on the SDK's loop thread."""

    list = sync_method(VFolders.list)
    create = sync_method(VFolders.create)
    info = sync_method(VFolders.info)
    delete = sync_method(VFolders.delete)
    hosts = sync_method(VFolders.hosts)
    list_hosts = sync_method(VFolders.hosts)
    rename = sync_method(VFolders.rename)
    ls = sync_method(VFolders.ls)
    mkdir = sync_method(VFolders.mkdir)
    rename_file = sync_method(VFolders.rename_file)
    move_file = sync_method(VFolders.move_file)
    delete_files = sync_method(VFolders.delete_files)
    upload = sync_method(VFolders.upload)
    download = sync_method(VFolders.download)
