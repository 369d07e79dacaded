"""Compute sessions: get-or-create, info, listing, lifecycle, completion, logs and session files."""

from __future__ import annotations

import asyncio
import builtins
import io
import re
import secrets
import tarfile
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from os import PathLike
from pathlib import Path, PurePosixPath
from typing import Any, Literal

import aiohttp

from ... import wire
from .. import versioning
from .._facade import SyncResource, sync_iter_method, sync_method
from ..errors import (
    BackendAPIError,
    BackendClientError,
    BackendTimeoutError,
    ServerError,
)
from ..types import CreatedSession, FileEntry, Page, SessionInfo, SessionListItem
from ._util import gql, relative_name, session_path
from .execution import Execution

__all__ = [
    "MAX_DOWNLOAD_FILES_PER_REQUEST",
    "MAX_UPLOAD_FILES_PER_REQUEST",
    "MAX_UPLOAD_FILE_SIZE",
    "SessionType",
    "Sessions",
    "SyncSessions",
]

SessionType = Literal["interactive", "batch", "inference"]

#: The manager refuses a multipart part of 1 MiB or more and more than 20 parts (docs/protocol.md §4.2).
MAX_UPLOAD_FILE_SIZE = 1024 * 1024 - 1
MAX_UPLOAD_FILES_PER_REQUEST = 20
#: More than 5 paths per download request make the 23.09 manager fail with 500.
MAX_DOWNLOAD_FILES_PER_REQUEST = 5
#: Rows per GraphQL page; the official SDK keeps it within 1..100.
DEFAULT_PAGE_SIZE = 50

_NAME_RE = re.compile(wire.SESSION_NAME_PATTERN, re.ASCII)

_LIST_FIELDS = "id name type image status status_info status_changed created_at"
_LIST_FIELDS_V4 = "sess_id sess_type lang status status_info created_at"


def _check_name(name: str) -> str:
    if not _NAME_RE.fullmatch(name):  # match() would let a trailing newline through
        raise BackendClientError(
            f"session name {name!r} is not valid: use 4-64 ASCII letters, digits, '_', '-' or '.', "
            "starting and ending with a letter, digit or '_'"
        )
    return name


class Sessions(Execution):
    """Compute sessions of the current keypair (``/session``, ``/kernel`` on v4).

    Code execution (``execute``, ``run``, ``stream``) comes from ``Execution``.
    """

    # -- creation and inspection -------------------------------------------------------------------

    async def create(
        self,
        image: str,
        *,
        name: str | None = None,
        type: SessionType = "interactive",
        resources: Mapping[str, Any] | None = None,
        resource_opts: Mapping[str, Any] | None = None,
        mounts: Sequence[str] | None = None,
        mount_map: Mapping[str, str] | None = None,
        environ: Mapping[str, str] | None = None,
        cluster_size: int = 1,
        cluster_mode: Literal["single-node", "multi-node"] = "single-node",
        scaling_group: str | None = None,
        enqueue_only: bool = False,
        max_wait: int = 0,
        reuse: bool = True,
        startup_command: str | None = None,
        bootstrap_script: str | None = None,
        tag: str | None = None,
        owner_access_key: str | None = None,
        architecture: str | None = None,
        group: str | None = None,
        domain: str | None = None,
    ) -> CreatedSession:
        """Get or create a session; sends only the fields the negotiated API version knows.

        A field the server's version cannot take raises BackendClientError instead of being dropped.
        Without ``enqueue_only`` the call blocks until the session starts or ``max_wait`` seconds pass
        (0 = no limit). Never retried: a retry could not tell whether the first attempt created it.
        """
        client = self._client
        await client.negotiate()
        v = client.api_version_tuple
        session_name = _check_name(name) if name is not None else f"pysdk-{secrets.token_hex(5)}"
        if type == "batch" and not startup_command:
            raise BackendClientError("a batch session needs startup_command=, the command it runs")
        if cluster_size < 1:
            raise BackendClientError(f"cluster_size={cluster_size} must be 1 or more")

        def need(param: str, since: versioning.Version) -> None:
            if v < since:
                raise BackendClientError(
                    f"{param}= needs API {versioning.format_version(since)} or newer, but the server speaks "
                    f"{client.api_version}; remove {param}="
                )

        body: dict[str, Any] = {
            versioning.image_field(v): image,
            versioning.name_field(v): session_name,
        }
        config: dict[str, Any] = {}
        all_mounts = [*client.config.vfolder_mounts, *(mounts or ())]
        if all_mounts:
            config["mounts"] = list(dict.fromkeys(all_mounts))
        if environ:
            config["environ"] = dict(environ)
        if resources:
            need("resources", (4, "20190315"))
            config["resources"] = dict(resources)
        if resource_opts:
            need("resource_opts", (4, "20190615"))
            config["resource_opts"] = dict(resource_opts)
        if mount_map:
            need("mount_map", (5, "20191215"))
            config["mount_map"] = dict(mount_map)
        if scaling_group:
            need("scaling_group", (4, "20190615"))
            config["scalingGroup"] = scaling_group

        v4_2019_06 = v >= (4, "20190615")
        if v4_2019_06:
            body["type"] = type
            body["group"] = group or client.config.group
            body["domain"] = domain or client.config.domain
            body["enqueueOnly"] = enqueue_only
            body["maxWaitSeconds"] = max_wait
            body["reuseIfExists"] = reuse
        else:
            for param, value, default in (
                ("type", type, "interactive"),
                ("enqueue_only", enqueue_only, False),
                ("max_wait", max_wait, 0),
                ("reuse", reuse, True),
            ):
                if value != default:
                    need(param, (4, "20190615"))
            if group or domain:
                need("group" if group else "domain", (4, "20190615"))

        if versioning.cluster_in_config(v):
            if cluster_mode != "single-node":
                need("cluster_mode", (6, "20200815"))
            if cluster_size != 1:
                config["clusterSize"] = cluster_size
        else:
            body["clusterSize"] = cluster_size
            body["clusterMode"] = cluster_mode
        # optional top-level fields: (parameter, wire key, value, first API version that knows it)
        optional: tuple[tuple[str, str, str | None, versioning.Version], ...] = (
            ("startup_command", "startupCommand", startup_command, (5, "20191215")),
            ("bootstrap_script", "bootstrap_script", bootstrap_script, (6, "20200815")),
            ("tag", "tag", tag, (4, "20190615")),
            ("owner_access_key", "owner_access_key", owner_access_key, (4, "20190615")),
            ("architecture", "architecture", architecture, (6, "20220315")),
        )
        for param, key, given, since in optional:
            if given is not None:
                need(param, since)
                body[key] = given
        body["config"] = config

        prefix = versioning.session_prefix(v)
        resp = await client.request("POST", prefix, json=body, idempotent=False)
        return CreatedSession.from_api(resp.json(), requested_name=session_name)

    async def info(self, session: str) -> SessionInfo:
        """``GET /session/{id}``: status, image, creation time and the raw details."""
        resp = await self._client.request("GET", await session_path(self._client, session))
        return SessionInfo.from_api(resp.json(), ref=session)

    async def list(
        self,
        *,
        status: str | Iterable[str] | None = None,
        access_key: str | None = None,
        limit: int = DEFAULT_PAGE_SIZE,
        offset: int = 0,
    ) -> Page[SessionListItem]:
        """One page of the GraphQL ``compute_session_list`` (``status`` may list several statuses)."""
        if not 1 <= limit <= 100:
            raise BackendClientError(f"limit={limit} must be between 1 and 100")
        if offset < 0:
            raise BackendClientError(f"offset={offset} must be 0 or more")
        await self._client.negotiate()
        fields = _LIST_FIELDS_V4 if self._client.api_version_tuple[0] <= 4 else _LIST_FIELDS
        query = (
            "query($limit:Int!,$offset:Int!,$status:String,$access_key:String){"
            "compute_session_list(limit:$limit,offset:$offset,status:$status,access_key:$access_key)"
            f"{{items{{{fields}}} total_count}}}}"
        )
        status_text = status if status is None or isinstance(status, str) else ",".join(status)
        variables: dict[str, Any] = {"limit": limit, "offset": offset, "status": status_text}
        if access_key is not None:
            variables["access_key"] = access_key
        data = await gql(self._client, query, variables)
        listing = data.get("compute_session_list") if isinstance(data, Mapping) else None
        if not isinstance(listing, Mapping):
            raise BackendClientError(f"the session listing reply has no compute_session_list: {data!r}")
        items = listing.get("items")
        rows = tuple(SessionListItem.from_api(r) for r in items if isinstance(r, Mapping)) if items else ()
        total = listing.get("total_count")
        return Page(items=rows, total_count=int(total) if isinstance(total, int) else len(rows))

    async def iter_all(
        self,
        *,
        status: str | Iterable[str] | None = None,
        access_key: str | None = None,
        page_size: int = DEFAULT_PAGE_SIZE,
    ) -> AsyncIterator[SessionListItem]:
        """Every matching session, fetching page after page."""
        offset = 0
        statuses = status if status is None or isinstance(status, str) else tuple(status)
        while True:
            page = await self.list(status=statuses, access_key=access_key, limit=page_size, offset=offset)
            for item in page.items:
                yield item
            offset += len(page.items)
            if not page.items or offset >= page.total_count:
                return

    async def match(self, prefix: str) -> tuple[Mapping[str, Any], ...]:
        """Sessions whose ID or name starts with ``prefix`` (``{id, name, status}`` rows)."""
        path = await session_path(self._client, "_", "match")
        resp = await self._client.request("GET", path, params={"id": prefix})
        data = resp.json()
        matches = data.get("matches") if isinstance(data, Mapping) else None
        return tuple(dict(m) for m in matches if isinstance(m, Mapping)) if isinstance(matches, list) else ()

    async def logs(self, session: str) -> str:
        """The container logs of a session (also for terminated sessions)."""
        resp = await self._client.request("GET", await session_path(self._client, session, "logs"))
        data = resp.json()
        result = data.get("result") if isinstance(data, Mapping) else None
        logs = result.get("logs") if isinstance(result, Mapping) else None
        return logs if isinstance(logs, str) else ""

    # -- lifecycle --------------------------------------------------------------------------------

    async def destroy(
        self,
        session: str,
        *,
        forced: bool = False,
        recursive: bool = False,
        owner_access_key: str | None = None,
    ) -> Any:
        """Terminate a session; returns the last stats (a list of them with ``recursive``)."""
        params: dict[str, str] = {}
        if forced:
            params["forced"] = "true"
        if recursive:
            params["recursive"] = "true"
        if owner_access_key:
            params["owner_access_key"] = owner_access_key
        resp = await self._client.request(
            "DELETE", await session_path(self._client, session), params=params or None
        )
        if not resp.body:
            return {}
        data = resp.json()
        return data.get("stats", data) if isinstance(data, Mapping) else data

    async def restart(self, session: str, *, owner_access_key: str | None = None) -> None:
        """Restart the session's kernels: state is reset, files are kept."""
        params = {"owner_access_key": owner_access_key} if owner_access_key else None
        await self._client.request("PATCH", await session_path(self._client, session), params=params)

    async def interrupt(self, session: str) -> None:
        """Interrupt the running code (best effort)."""
        await self._client.request("POST", await session_path(self._client, session, "interrupt"))

    async def rename(self, session: str, new_name: str) -> None:
        """Rename a RUNNING session."""
        path = await session_path(self._client, session, "rename")
        await self._client.request("POST", path, params={"name": _check_name(new_name)}, idempotent=True)

    async def complete(
        self,
        session: str,
        code: str,
        *,
        row: int = 0,
        col: int = 0,
        line: str = "",
        post: str = "",
        timeout: float | None = 15.0,
    ) -> builtins.list[str]:
        """Completions at a cursor; ``[]`` when the kernel cannot complete or times out."""
        path = await session_path(self._client, session, "complete")
        body = {"code": code, "options": {"row": row, "col": col, "line": line, "post": post}}
        try:
            resp = await self._client.request("POST", path, json=body, idempotent=True, timeout=timeout)
        except (BackendTimeoutError, ServerError):
            # 23.09 kernels often leave completion unimplemented and the manager RPC gives up after 10 s
            return []
        data = resp.json()
        found: Any = data
        if isinstance(found, Mapping):
            found = found.get("result", found)
        if isinstance(found, Mapping):
            found = found.get("completions", found.get("suggestions"))
        return [str(c) for c in found] if isinstance(found, list) else []

    # -- session files ------------------------------------------------------------------------------

    async def list_files(self, session: str, path: str = ".") -> tuple[FileEntry, ...]:
        """Files in a directory of the session (relative to ``/home/work``)."""
        resp = await self._client.request(
            "GET", await session_path(self._client, session, "files"), json={"path": path}
        )
        data = resp.json()
        return FileEntry.parse_listing(data) if isinstance(data, Mapping) else ()

    async def upload(
        self,
        session: str,
        files: Sequence[str | PathLike[str]],
        *,
        basedir: str | PathLike[str] | None = None,
    ) -> None:
        """Upload small local files (each < 1 MiB) into the session, 20 per request."""
        base = Path(basedir) if basedir is not None else None
        entries = await asyncio.to_thread(_plan_upload, files, base)
        path = await session_path(self._client, session, "upload")
        for start in range(0, len(entries), MAX_UPLOAD_FILES_PER_REQUEST):
            form = aiohttp.FormData(quote_fields=False)  # keep "dir/name" intact for the server
            for local, remote in entries[start : start + MAX_UPLOAD_FILES_PER_REQUEST]:
                # parts are small (< 1 MiB), so reading them whole keeps memory bounded
                content = await asyncio.to_thread(local.read_bytes)
                form.add_field("src", content, filename=remote, content_type="application/octet-stream")
            await self._client.request("POST", path, data=form, idempotent=True)

    async def download(
        self,
        session: str,
        paths: Sequence[str],
        *,
        dest: str | PathLike[str] = ".",
    ) -> builtins.list[Path]:
        """Download files from the session into ``dest``; returns what was written there."""
        target = Path(dest)
        await asyncio.to_thread(target.mkdir, parents=True, exist_ok=True)
        method = await self._download_method()
        api_path = await session_path(self._client, session, "download")
        written: builtins.list[Path] = []
        for start in range(0, len(paths), MAX_DOWNLOAD_FILES_PER_REQUEST):
            batch = list(paths[start : start + MAX_DOWNLOAD_FILES_PER_REQUEST])
            try:
                written += await self._download_batch(method, api_path, batch, target)
            except BackendAPIError as exc:
                if not _wrong_method(exc):
                    raise
                method = _other_method(method)
                written += await self._download_batch(method, api_path, batch, target)
        return written

    async def _download_method(self) -> str:
        """The download method the server's version expects (``_wrong_method`` tells when to switch)."""
        await self._client.negotiate()
        return versioning.session_download_method(
            self._client.api_version_tuple, self._client.manager_version
        )

    async def _download_batch(
        self, method: str, path: str, batch: builtins.list[str], dest: Path
    ) -> builtins.list[Path]:
        written: builtins.list[Path] = []
        async with self._client.stream(method, path, json={"files": batch}, idempotent=True) as resp:
            reader = aiohttp.MultipartReader.from_response(resp)
            while True:
                part = await reader.next()
                if part is None:
                    break
                if not isinstance(part, aiohttp.BodyPartReader):
                    continue
                # each part is one tar archive of at most 1 MiB (the manager's limit)
                payload = await part.read(decode=False)
                written += await asyncio.to_thread(extract_tar_safely, bytes(payload), dest)
        return written

    async def download_single(self, session: str, path: str) -> bytes:
        """The bytes of one small file (≤ 1 MiB) in the session."""
        method = await self._download_method()
        api_path = await session_path(self._client, session, "download_single")
        try:
            resp = await self._client.request(method, api_path, json={"file": path}, idempotent=True)
        except BackendAPIError as exc:
            if not _wrong_method(exc):
                raise
            resp = await self._client.request(
                _other_method(method), api_path, json={"file": path}, idempotent=True
            )
        return resp.body


def _plan_upload(files: Sequence[str | PathLike[str]], base: Path | None) -> builtins.list[tuple[Path, str]]:
    """Check each file against the manager's limits and pick its remote name."""
    entries: builtins.list[tuple[Path, str]] = []
    for item in files:
        local = Path(item)
        if not local.is_file():
            raise BackendClientError(f"cannot upload {str(local)!r}: it is not a file")
        size = local.stat().st_size
        if size > MAX_UPLOAD_FILE_SIZE:
            raise BackendClientError(
                f"cannot upload {str(local)!r} ({size} bytes) into a session: the limit is under 1 MiB "
                "per file; upload it to a vfolder (client.vfolders.upload) and mount that vfolder instead"
            )
        entries.append((local, relative_name(local, base)))
    return entries


def _wrong_method(exc: BackendAPIError) -> bool:
    """405, or 400 ``deprecated`` (24.09 refuses GET downloads): try the other method."""
    return exc.status == 405 or (exc.status == 400 and exc.type.endswith("/deprecated"))


def _other_method(method: str) -> str:
    return "GET" if method == "POST" else "POST"


def extract_tar_safely(payload: bytes, dest: Path) -> builtins.list[Path]:
    """Extract a tar archive into ``dest``: regular files and directories only, no path may escape."""
    root = dest.resolve()
    written: list[Path] = []
    with tarfile.open(fileobj=io.BytesIO(payload), mode="r:*") as archive:
        for member in archive.getmembers():
            rel = PurePosixPath(member.name)
            if rel.is_absolute() or ".." in rel.parts:
                raise BackendClientError(f"refusing archive member {member.name!r}: it points outside {dest}")
            target = (root / Path(*rel.parts)).resolve() if rel.parts else root
            if target != root and root not in target.parents:
                raise BackendClientError(f"refusing archive member {member.name!r}: it points outside {dest}")
            if member.isdir():
                target.mkdir(parents=True, exist_ok=True)
            elif member.isfile():
                target.parent.mkdir(parents=True, exist_ok=True)
                source = archive.extractfile(member)
                if source is None:
                    continue
                with source, open(target, "wb") as out:
                    while chunk := source.read(64 * 1024):
                        out.write(chunk)
                written.append(target)
            # links, devices and fifos are skipped: they could point anywhere
    return written


class SyncSessions(SyncResource[Sessions]):
    """The blocking twin of ``Sessions``, running on the SDK's loop thread."""

    create = sync_method(Sessions.create)
    info = sync_method(Sessions.info)
    list = sync_method(Sessions.list)
    iter_all = sync_iter_method(Sessions.iter_all)
    match = sync_method(Sessions.match)
    logs = sync_method(Sessions.logs)
    destroy = sync_method(Sessions.destroy)
    restart = sync_method(Sessions.restart)
    interrupt = sync_method(Sessions.interrupt)
    rename = sync_method(Sessions.rename)
    complete = sync_method(Sessions.complete)
    execute = sync_method(Sessions.execute)
    run = sync_iter_method(Sessions.run)
    list_files = sync_method(Sessions.list_files)
    upload = sync_method(Sessions.upload)
    download = sync_method(Sessions.download)
    download_single = sync_method(Sessions.download_single)
