"""The official SDK's names (``Session``, ``ComputeSession``, ``VFolder``, ``Request``) as thin wrappers.

Code written for ``ai.backend.client`` runs with only its import line changed::

    from backendai_jupyter.sdk.compat import Session

    with Session() as api_session:
        kern = api_session.ComputeSession.get_or_create("python", client_token="mysession")
        result = kern.execute(None, 'print("hi")', mode="query")

There is no implicit session in a ContextVar: ``Request(...)`` without ``session=`` uses the innermost
``Session``/``AsyncSession`` that is open (entered and not yet closed), and says so clearly when none is.
"""

from __future__ import annotations

import asyncio
import json as jsonlib
import threading
from collections.abc import AsyncIterator, Coroutine, Mapping, Sequence
from dataclasses import dataclass
from os import PathLike
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal

import aiohttp
from multidict import CIMultiDictProxy

from .client import AsyncClient
from .config import APIConfig
from .errors import BackendClientError
from .resources.execution import ExecutionStream, StepMode
from .response import Response
from .sync import Client, LoopThread, SyncResource, loop_thread, sync_method
from .types import FileEntry, SessionListItem

if TYPE_CHECKING:
    from typing_extensions import Self

__all__ = [
    "AsyncComputeSession",
    "AsyncSession",
    "AsyncVFolder",
    "ComputeSession",
    "Kernel",
    "PaginatedResult",
    "Request",
    "Session",
    "StreamExecution",
    "VFolder",
]

#: Mode names of the official docs and SDK, mapped to the wire's.
_MODE_ALIASES: dict[str, StepMode] = {
    "query": "query",
    "batch": "batch",
    "continue": "continue",
    "continued": "continue",
    "input": "input",
    "user-input": "input",
}


def _batch_options(opts: Mapping[str, Any] | None) -> dict[str, Any]:
    opts = opts or {}
    return {
        "clean": opts.get("clean"),
        "build": opts.get("build"),
        "buildLog": bool(opts.get("buildLog", False)),
        "exec": opts.get("exec"),
    }


# -- compute sessions ---------------------------------------------------------------------------------


class AsyncComputeSession:
    """A handle on one compute session, with the official SDK's method names (async)."""

    def __init__(
        self,
        client: AsyncClient,
        name: str,
        *,
        id: str | None = None,
        owner_access_key: str | None = None,
        created: bool | None = None,
        status: str | None = None,
        service_ports: Sequence[Mapping[str, Any]] = (),
    ) -> None:
        self._client = client
        self.name = name
        self.id = id
        self.owner_access_key = owner_access_key
        self.created = created
        self.status = status
        self.service_ports = list(service_ports)

    @property
    def ref(self) -> str:
        """How this session is addressed in paths: its UUID when known, else its name."""
        return self.id or self.name

    def __repr__(self) -> str:
        return f"<ComputeSession name={self.name!r} id={self.id!r}>"

    async def execute(
        self,
        run_id: str | None = None,
        code: str | None = None,
        mode: str = "query",
        opts: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """One execute step; returns the official result dict (runId, status, console, exitCode, ...)."""
        step = _MODE_ALIASES.get(mode)
        if step is None:
            raise BackendClientError(
                f"execution mode {mode!r} is not one of 'query', 'batch', 'continue', 'input'"
            )
        if step in ("query", "continue", "input") and code is None:
            raise BackendClientError("code must be a string, even an empty one, for this mode")
        options = _batch_options(opts) if step == "batch" else None
        result = await self._client.sessions.execute(
            self.ref, mode=step, code=code or "", run_id=run_id, options=options
        )
        return result.to_api()

    def stream_execute(
        self,
        code: str = "",
        *,
        mode: Literal["query", "batch"] = "query",
        opts: Mapping[str, Any] | None = None,
    ) -> StreamExecution:
        """A WebSocket run: ``async with kern.stream_execute(code) as stream`` yields a message stream."""
        options = _batch_options(opts) if mode == "batch" else None
        return StreamExecution(self._client.sessions.stream(self.ref, code, mode=mode, options=options))

    async def destroy(self, *, forced: bool = False, recursive: bool = False) -> Any:
        """Terminate the session."""
        return await self._client.sessions.destroy(
            self.ref, forced=forced, recursive=recursive, owner_access_key=self.owner_access_key
        )

    async def restart(self) -> None:
        """Restart the session's kernels."""
        await self._client.sessions.restart(self.ref, owner_access_key=self.owner_access_key)

    async def interrupt(self) -> None:
        """Interrupt the running code."""
        await self._client.sessions.interrupt(self.ref)

    async def get_info(self) -> dict[str, Any]:
        """The raw ``GET /session/{id}`` reply."""
        return dict((await self._client.sessions.info(self.ref)).raw)

    async def get_logs(self) -> dict[str, Any]:
        """``{"result": {"logs": ...}}`` as the official SDK returns it."""
        return {"result": {"logs": await self._client.sessions.logs(self.ref)}}

    async def rename(self, new_id: str) -> None:
        """Rename the session."""
        await self._client.sessions.rename(self.ref, new_id)
        self.name = new_id

    async def complete(self, code: str, opts: Mapping[str, Any] | None = None) -> list[str]:
        """Completions for ``code`` at ``opts`` row/col/line/post."""
        o = opts or {}
        return await self._client.sessions.complete(
            self.ref,
            code,
            row=int(o.get("row", 0)),
            col=int(o.get("col", 0)),
            line=str(o.get("line", "")),
            post=str(o.get("post", "")),
        )

    async def upload(
        self, files: Sequence[str | PathLike[str]], basedir: str | PathLike[str] | None = None
    ) -> None:
        """Upload small local files into the session's working directory."""
        await self._client.sessions.upload(self.ref, files, basedir=basedir)

    async def download(self, files: Sequence[str], dest: str | PathLike[str] = ".") -> list[Path]:
        """Download files from the session into ``dest``."""
        return await self._client.sessions.download(self.ref, files, dest=dest)

    async def list_files(self, path: str = ".") -> dict[str, Any]:
        """``{"files": [...], "abspath": ...}`` with ``files`` already decoded."""
        entries = await self._client.sessions.list_files(self.ref, path)
        return {"files": [_file_dict(e) for e in entries], "abspath": path}


def _file_dict(entry: FileEntry) -> dict[str, Any]:
    return {
        "filename": entry.filename,
        "size": entry.size,
        "mode": entry.mode,
        "ctime": entry.ctime,
        "mtime": entry.mtime,
        "atime": entry.atime,
    }


class StreamExecution:
    """``async with`` context of ``stream_execute``: connects, sends the code, yields a websocket."""

    def __init__(self, stream: ExecutionStream) -> None:
        self._stream = stream
        self._ws: CompatWebSocket | None = None

    async def __aenter__(self) -> CompatWebSocket:
        await self._stream.open()
        self._ws = CompatWebSocket(self._stream.websocket)
        return self._ws

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._ws is not None:
            await self._ws.close()


class CompatWebSocket:
    """The official SDK's WebSocket wrapper: iterate ``aiohttp.WSMessage``s; ``send_str``/``receive_json``."""

    def __init__(self, raw: aiohttp.ClientWebSocketResponse) -> None:
        self._raw = raw

    @property
    def raw_websocket(self) -> aiohttp.ClientWebSocketResponse:
        """The aiohttp WebSocket."""
        return self._raw

    @property
    def closed(self) -> bool:
        """Whether the socket is closed."""
        return self._raw.closed

    def __aiter__(self) -> AsyncIterator[aiohttp.WSMessage]:
        return self._raw.__aiter__()

    def _check(self) -> None:
        if self._raw.closed:
            raise BackendClientError("the execute stream is closed (the run finished or the server left)")

    async def send_str(self, raw_str: str) -> None:
        """Send a TEXT frame (e.g. the answer to ``waiting-input``)."""
        self._check()
        await self._raw.send_str(raw_str)

    send_text = send_str

    async def send_json(self, obj: Any) -> None:
        """Send a JSON TEXT frame."""
        self._check()
        await self._raw.send_str(jsonlib.dumps(obj))

    async def send_bytes(self, data: bytes) -> None:
        """Send a BINARY frame."""
        self._check()
        await self._raw.send_bytes(data)

    async def receive_str(self) -> str:
        """The next TEXT frame."""
        self._check()
        return await self._raw.receive_str()

    async def receive_json(self) -> Any:
        """The next TEXT frame, parsed as JSON."""
        self._check()
        return jsonlib.loads(await self._raw.receive_str())

    async def receive_bytes(self) -> bytes:
        """The next BINARY frame."""
        self._check()
        return await self._raw.receive_bytes()

    def exception(self) -> BaseException | None:
        """The error that closed the socket, if any."""
        return self._raw.exception()

    async def close(self) -> None:
        """Close the socket."""
        if not self._raw.closed:
            await self._raw.close()


@dataclass(frozen=True)
class PaginatedResult:
    """One page of ``ComputeSession.paginated_list``: ``items`` (dicts) and ``total_count``."""

    total_count: int
    items: list[dict[str, Any]]


def _row_dict(item: SessionListItem) -> dict[str, Any]:
    return dict(item.raw)


class _AsyncComputeSessionFactory:
    """``api_session.ComputeSession``: call it with a name, or use ``get_or_create``/``paginated_list``."""

    def __init__(self, client: AsyncClient) -> None:
        self._client = client

    def __call__(self, name: str, owner_access_key: str | None = None) -> AsyncComputeSession:
        return AsyncComputeSession(self._client, name, owner_access_key=owner_access_key)

    async def get_or_create(
        self,
        image: str,
        *,
        name: str | None = None,
        client_token: str | None = None,
        type_: Literal["interactive", "batch", "inference"] = "interactive",
        enqueue_only: bool = False,
        max_wait: int = 0,
        no_reuse: bool = False,
        mounts: Sequence[str] | None = None,
        mount_map: Mapping[str, str] | None = None,
        envs: Mapping[str, str] | None = None,
        startup_command: str | None = None,
        resources: Mapping[str, Any] | None = None,
        resource_opts: Mapping[str, Any] | None = None,
        cluster_size: int = 1,
        cluster_mode: Literal["single-node", "multi-node"] = "single-node",
        domain_name: str | None = None,
        group_name: str | None = None,
        bootstrap_script: str | None = None,
        tag: str | None = None,
        architecture: str | None = None,
        scaling_group: str | None = None,
        owner_access_key: str | None = None,
    ) -> AsyncComputeSession:
        """Get or create a session (``client_token`` is the old name of ``name``)."""
        created = await self._client.sessions.create(
            image,
            name=name or client_token,
            type=type_,
            enqueue_only=enqueue_only,
            max_wait=max_wait,
            reuse=not no_reuse,
            mounts=mounts,
            mount_map=mount_map,
            environ=envs,
            startup_command=startup_command,
            resources=resources,
            resource_opts=resource_opts,
            cluster_size=cluster_size,
            cluster_mode=cluster_mode,
            domain=domain_name,
            group=group_name,
            bootstrap_script=bootstrap_script,
            tag=tag,
            architecture=architecture,
            scaling_group=scaling_group,
            owner_access_key=owner_access_key,
        )
        return AsyncComputeSession(
            self._client,
            created.name,
            id=created.id,
            owner_access_key=owner_access_key,
            created=created.created,
            status=created.status,
            service_ports=created.service_ports,
        )

    async def paginated_list(
        self,
        status: str | None = None,
        access_key: str | None = None,
        *,
        page_offset: int = 0,
        page_size: int = 20,
    ) -> PaginatedResult:
        """One page of sessions, as the official SDK's ``paginated_list``."""
        page = await self._client.sessions.list(
            status=status, access_key=access_key, limit=page_size, offset=page_offset
        )
        return PaginatedResult(total_count=page.total_count, items=[_row_dict(i) for i in page.items])


class ComputeSession(SyncResource[AsyncComputeSession]):
    """The blocking handle on one compute session (``kern`` in the official examples)."""

    @property
    def name(self) -> str:
        """The session name."""
        return self._async.name

    @property
    def id(self) -> str | None:
        """The session UUID, when known."""
        return self._async.id

    @property
    def created(self) -> bool | None:
        """Whether ``get_or_create`` created it (False: an existing session was reused)."""
        return self._async.created

    @property
    def status(self) -> str | None:
        """The status reported at creation."""
        return self._async.status

    def __repr__(self) -> str:
        return repr(self._async)

    execute = sync_method(AsyncComputeSession.execute)
    destroy = sync_method(AsyncComputeSession.destroy)
    restart = sync_method(AsyncComputeSession.restart)
    interrupt = sync_method(AsyncComputeSession.interrupt)
    get_info = sync_method(AsyncComputeSession.get_info)
    get_logs = sync_method(AsyncComputeSession.get_logs)
    rename = sync_method(AsyncComputeSession.rename)
    complete = sync_method(AsyncComputeSession.complete)
    upload = sync_method(AsyncComputeSession.upload)
    download = sync_method(AsyncComputeSession.download)
    list_files = sync_method(AsyncComputeSession.list_files)


#: The official SDK's older name.
Kernel = ComputeSession


class _ComputeSessionFactory(SyncResource[_AsyncComputeSessionFactory]):
    """``api_session.ComputeSession`` of a sync ``Session``."""

    def __call__(self, name: str, owner_access_key: str | None = None) -> ComputeSession:
        return ComputeSession(self._async(name, owner_access_key), loop=self._loop)

    def get_or_create(self, image: str, **kwargs: Any) -> ComputeSession:
        """Get or create a session; the keywords of ``AsyncSession.ComputeSession.get_or_create``."""
        handle = self._loop.run(self._async.get_or_create(image, **kwargs))
        return ComputeSession(handle, loop=self._loop)

    paginated_list = sync_method(_AsyncComputeSessionFactory.paginated_list)


# -- virtual folders ------------------------------------------------------------------------------------


class AsyncVFolder:
    """A handle on one vfolder, with the official SDK's method names (async)."""

    def __init__(self, client: AsyncClient, name: str) -> None:
        self._client = client
        self.name = name

    def __repr__(self) -> str:
        return f"<VFolder name={self.name!r}>"

    async def info(self) -> dict[str, Any]:
        """The raw vfolder details."""
        return dict((await self._client.vfolders.info(self.name)).raw)

    async def delete(self) -> None:
        """Delete the vfolder."""
        await self._client.vfolders.delete(self.name)

    async def rename(self, new_name: str) -> None:
        """Rename the vfolder."""
        await self._client.vfolders.rename(self.name, new_name)
        self.name = new_name

    async def upload(
        self,
        files: Sequence[str | PathLike[str]],
        *,
        basedir: str | PathLike[str] | None = None,
        dst_dir: str | None = None,
        show_progress: bool = False,
    ) -> list[str]:
        """Upload local files (``show_progress`` is accepted and ignored: use the SDK's callback)."""
        return await self._client.vfolders.upload(self.name, files, basedir=basedir, dst_dir=dst_dir)

    async def download(
        self,
        relative_paths: Sequence[str],
        *,
        basedir: str | PathLike[str] | None = None,
        dest: str | PathLike[str] | None = None,
        show_progress: bool = False,
        overwrite: bool = True,
    ) -> list[Path]:
        """Download files into ``dest`` (the official SDK calls it ``basedir``), overwriting like it does."""
        target = dest if dest is not None else basedir if basedir is not None else "."
        return await self._client.vfolders.download(
            self.name, relative_paths, dest=target, overwrite=overwrite
        )

    async def list_files(self, path: str = ".") -> dict[str, Any]:
        """``{"items": [...]}`` rows of a directory."""
        entries = await self._client.vfolders.ls(self.name, "" if path in (".", "./") else path)
        return {
            "items": [
                {
                    "name": e.name,
                    "type": e.type,
                    "size": e.size,
                    "mode": e.mode,
                    "created": e.created,
                    "modified": e.modified,
                }
                for e in entries
            ]
        }

    async def mkdir(self, path: str, parents: bool = False, exist_ok: bool = False) -> None:
        """Create a directory."""
        await self._client.vfolders.mkdir(self.name, path, parents=parents, exist_ok=exist_ok)

    async def rename_file(self, target_path: str, new_name: str) -> None:
        """Rename a file."""
        await self._client.vfolders.rename_file(self.name, target_path, new_name)

    async def move_file(self, src_path: str, dst_path: str) -> None:
        """Move a file."""
        await self._client.vfolders.move_file(self.name, src_path, dst_path)

    async def delete_files(self, files: Sequence[str], recursive: bool = False) -> None:
        """Delete files."""
        await self._client.vfolders.delete_files(self.name, files, recursive=recursive)


class _AsyncVFolderFactory:
    """``api_session.VFolder``: call it with a name, or use ``create``/``list``/``list_hosts``."""

    def __init__(self, client: AsyncClient) -> None:
        self._client = client

    def __call__(self, name: str) -> AsyncVFolder:
        return AsyncVFolder(self._client, name)

    async def create(
        self,
        name: str,
        host: str | None = None,
        group: str | None = None,
        usage_mode: Literal["general", "model", "data"] | None = None,
        permission: Literal["ro", "rw", "wd"] | None = None,
        cloneable: bool | None = None,
    ) -> dict[str, Any]:
        """Create a vfolder; returns the server's reply."""
        info = await self._client.vfolders.create(
            name, host=host, group=group, usage_mode=usage_mode, permission=permission, cloneable=cloneable
        )
        return dict(info.raw) or {"name": info.name}

    async def list(self) -> list[dict[str, Any]]:
        """The vfolders this user can access (raw rows)."""
        return [dict(v.raw) for v in await self._client.vfolders.list()]

    async def list_hosts(self) -> dict[str, Any]:
        """``{"default", "allowed", "volume_info"}``."""
        hosts = await self._client.vfolders.hosts()
        return {
            "default": hosts.default,
            "allowed": list(hosts.allowed),
            "volume_info": dict(hosts.volume_info),
        }


class VFolder(SyncResource[AsyncVFolder]):
    """The blocking handle on one vfolder."""

    @property
    def name(self) -> str:
        """The vfolder name."""
        return self._async.name

    def __repr__(self) -> str:
        return repr(self._async)

    info = sync_method(AsyncVFolder.info)
    delete = sync_method(AsyncVFolder.delete)
    rename = sync_method(AsyncVFolder.rename)
    upload = sync_method(AsyncVFolder.upload)
    download = sync_method(AsyncVFolder.download)
    list_files = sync_method(AsyncVFolder.list_files)
    mkdir = sync_method(AsyncVFolder.mkdir)
    rename_file = sync_method(AsyncVFolder.rename_file)
    move_file = sync_method(AsyncVFolder.move_file)
    delete_files = sync_method(AsyncVFolder.delete_files)


class _VFolderFactory(SyncResource[_AsyncVFolderFactory]):
    """``api_session.VFolder`` of a sync ``Session``."""

    def __call__(self, name: str) -> VFolder:
        return VFolder(self._async(name), loop=self._loop)

    create = sync_method(_AsyncVFolderFactory.create)
    list = sync_method(_AsyncVFolderFactory.list)
    list_hosts = sync_method(_AsyncVFolderFactory.list_hosts)


class _AsyncSystem:
    def __init__(self, client: AsyncClient) -> None:
        self._client = client

    async def get_versions(self) -> dict[str, str | None]:
        """``{"version": <server API version>, "manager": <release>}``."""
        return await self._client.manager.versions()


class _System(SyncResource[_AsyncSystem]):
    get_versions = sync_method(_AsyncSystem.get_versions)


# -- API sessions -----------------------------------------------------------------------------------------

_open_sessions: list[Session | AsyncSession] = []
_open_lock = threading.Lock()


def _push(session: Session | AsyncSession) -> None:
    with _open_lock:
        _open_sessions.append(session)


def _pop(session: Session | AsyncSession) -> None:
    with _open_lock:
        if session in _open_sessions:
            _open_sessions.remove(session)


def _current() -> Session | AsyncSession:
    with _open_lock:
        if _open_sessions:
            return _open_sessions[-1]
    raise BackendClientError(
        "Request(...).fetch() needs an open API session: use it inside 'with Session() as s:' "
        "(or 'async with AsyncSession()'), or pass session=..."
    )


class Session:
    """The official SDK's sync API session: ``with Session() as api_session: ...``."""

    def __init__(self, *, config: APIConfig | None = None, loop: LoopThread | None = None) -> None:
        self._loop = loop if loop is not None else loop_thread()
        self._client = Client(config, loop=self._loop)
        self._closed = False
        self.ComputeSession = _ComputeSessionFactory(
            _AsyncComputeSessionFactory(self.async_client), loop=self._loop
        )
        self.Kernel = self.ComputeSession
        self.VFolder = _VFolderFactory(_AsyncVFolderFactory(self.async_client), loop=self._loop)
        self.System = _System(_AsyncSystem(self.async_client), loop=self._loop)

    @property
    def client(self) -> Client:
        """The clean sync client underneath."""
        return self._client

    @property
    def async_client(self) -> AsyncClient:
        """The AsyncClient underneath (it lives on the loop thread)."""
        return self._client.async_client

    @property
    def config(self) -> APIConfig:
        """The settings in use."""
        return self._client.config

    @property
    def api_version(self) -> str:
        """The negotiated API version."""
        return self._client.api_version

    @property
    def closed(self) -> bool:
        """Whether ``close`` was called."""
        return self._closed

    def Request(
        self, method: str, path: str, content: Any = None, *, params: Mapping[str, str] | None = None
    ) -> Request:
        """A ``Request`` bound to this session."""
        return Request(method, path, content, params=params, session=self)

    def __enter__(self) -> Self:
        self._client.negotiate()
        _push(self)
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close the connections."""
        _pop(self)
        if not self._closed:
            self._closed = True
            self._client.close()


class AsyncSession:
    """The official SDK's async API session: ``async with AsyncSession() as api_session: ...``."""

    def __init__(self, *, config: APIConfig | None = None) -> None:
        self._client = AsyncClient(config)
        self._closed = False
        self.ComputeSession = _AsyncComputeSessionFactory(self._client)
        self.Kernel = self.ComputeSession
        self.VFolder = _AsyncVFolderFactory(self._client)
        self.System = _AsyncSystem(self._client)

    @property
    def client(self) -> AsyncClient:
        """The clean async client underneath."""
        return self._client

    @property
    def config(self) -> APIConfig:
        """The settings in use."""
        return self._client.config

    @property
    def api_version(self) -> str:
        """The negotiated API version."""
        return self._client.api_version

    @property
    def closed(self) -> bool:
        """Whether ``close`` was called."""
        return self._closed

    def Request(
        self, method: str, path: str, content: Any = None, *, params: Mapping[str, str] | None = None
    ) -> Request:
        """A ``Request`` bound to this session."""
        return Request(method, path, content, params=params, session=self)

    async def __aenter__(self) -> Self:
        await self._client.negotiate()
        _push(self)
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    async def close(self) -> None:
        """Close the connections."""
        _pop(self)
        if not self._closed:
            self._closed = True
            await self._client.close()


# -- raw requests -------------------------------------------------------------------------------------------


class _FetchedBase:
    """Status and headers of a fetched response."""

    def __init__(self, response: Response) -> None:
        self._response = response

    @property
    def status(self) -> int:
        """The HTTP status."""
        return self._response.status

    @property
    def reason(self) -> str:
        """The HTTP reason phrase."""
        return self._response.reason

    @property
    def headers(self) -> CIMultiDictProxy[str]:
        """The response headers."""
        return self._response.headers

    @property
    def content_type(self) -> str:
        """The bare MIME type."""
        return self._response.headers.get("Content-Type", "").split(";", 1)[0].strip()

    @property
    def content_length(self) -> int:
        """The body length."""
        return len(self._response.body)


class FetchResult(_FetchedBase):
    """A fetched response (sync): ``status``, ``reason``, ``json()``, ``text()``, ``read()``."""

    def json(self) -> Any:
        """The body parsed as JSON."""
        return self._response.json()

    def text(self) -> str:
        """The body as text."""
        return self._response.text()

    def read(self) -> bytes:
        """The raw body."""
        return self._response.body


class AsyncFetchResult(_FetchedBase):
    """A fetched response (async): the same, with awaitable ``json()``, ``text()`` and ``read()``."""

    async def json(self) -> Any:
        """The body parsed as JSON."""
        return self._response.json()

    async def text(self) -> str:
        """The body as text."""
        return self._response.text()

    async def read(self) -> bytes:
        """The raw body."""
        return self._response.body


class Request:
    """``Request(method, path, content).fetch()`` as in the official SDK (signed, errors raised)."""

    def __init__(
        self,
        method: str,
        path: str,
        content: Any = None,
        *,
        params: Mapping[str, str] | None = None,
        session: Session | AsyncSession | None = None,
    ) -> None:
        self.method = method.upper()
        self.path = path
        self.params = dict(params) if params else None
        self.session = session
        self._json: Any = None
        self._data: bytes | None = None
        self._content_type: str | None = None
        self.set_content(content)

    def set_content(self, value: Any, *, content_type: str | None = None) -> None:
        """Set the body: dict/list as JSON, ``bytes`` as is, ``str`` as UTF-8 text."""
        self._json, self._data, self._content_type = None, None, content_type
        if value is None:
            return
        if isinstance(value, (bytes, bytearray)):
            self._data = bytes(value)
            self._content_type = content_type or "application/octet-stream"
        elif isinstance(value, str):
            self._data = value.encode()
            self._content_type = content_type or "text/plain"
        else:
            self._json = value

    def set_json(self, value: Any) -> None:
        """Set a JSON body."""
        self._json, self._data, self._content_type = value, None, None

    def _call(self, client: AsyncClient) -> Coroutine[Any, Any, Response]:
        headers = {"Content-Type": self._content_type} if self._content_type else None
        if self._json is not None:
            return client.request(self.method, self.path, params=self.params, json=self._json)
        return client.request(self.method, self.path, params=self.params, data=self._data, headers=headers)

    def fetch(self) -> _Fetch:
        """``with rqst.fetch() as resp`` (in a ``Session``) or ``async with`` (in an ``AsyncSession``)."""
        return _Fetch(self)


class _Fetch:
    def __init__(self, request: Request) -> None:
        self._request = request

    def _session(self) -> Session | AsyncSession:
        return self._request.session if self._request.session is not None else _current()

    def __enter__(self) -> FetchResult:
        session = self._session()
        if not isinstance(session, Session):
            raise BackendClientError("this request belongs to an AsyncSession: use 'async with rqst.fetch()'")
        loop = session._loop
        return FetchResult(loop.run(self._request._call(session.async_client)))

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        return None

    async def __aenter__(self) -> AsyncFetchResult:
        session = self._session()
        if isinstance(session, AsyncSession):
            return AsyncFetchResult(await self._request._call(session.client))
        # a sync Session's client lives on the loop thread: run it there and await the result here
        future = asyncio.run_coroutine_threadsafe(
            self._request._call(session.async_client), session._loop.loop
        )
        return AsyncFetchResult(await asyncio.wrap_future(future))

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        return None
