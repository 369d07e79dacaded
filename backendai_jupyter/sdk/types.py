"""Frozen, typed models of what the Backend.AI API returns, parsed defensively (docs/protocol.md §9)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Generic, TypeVar

__all__ = [
    "Announcement",
    "ConsoleItem",
    "CreatedSession",
    "ExecutionResult",
    "FileEntry",
    "ImageInfo",
    "KeypairInfo",
    "Page",
    "SessionEvent",
    "SessionInfo",
    "SessionListItem",
    "TransferProgress",
    "VFolderFile",
    "VFolderHosts",
    "VFolderInfo",
]

T = TypeVar("T")

_EMPTY: Mapping[str, Any] = MappingProxyType({})


def _empty() -> Mapping[str, Any]:
    return _EMPTY


def _frozen(data: Any) -> Mapping[str, Any]:
    """A read-only view of a JSON object (anything else becomes an empty mapping)."""
    return MappingProxyType(dict(data)) if isinstance(data, Mapping) else _EMPTY


def _str(value: Any) -> str | None:
    return None if value is None else str(value)


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, (float, str)):
        try:
            return int(value)
        except ValueError:
            return None
    return None


def _first(data: Mapping[str, Any], *keys: str) -> Any:
    """The value of the first key present (API versions renamed many fields)."""
    for key in keys:
        if key in data:
            return data[key]
    return None


def _json_list(value: Any) -> list[Any]:
    """A list that may arrive as a JSON-encoded string (session ``files``, legacy vfolder ``files``)."""
    if isinstance(value, (str, bytes)):
        try:
            value = json.loads(value)
        except ValueError:
            return []
    return list(value) if isinstance(value, list) else []


def _port_rows(data: Mapping[str, Any]) -> tuple[Mapping[str, Any], ...]:
    rows = _first(data, "servicePorts", "service_ports")
    if not isinstance(rows, Sequence) or isinstance(rows, (str, bytes)):
        return ()
    return tuple(_frozen(row) for row in rows if isinstance(row, Mapping))


@dataclass(frozen=True, kw_only=True)
class CreatedSession:
    """The reply of a get-or-create call: 201 (new or reused) or 200 (old servers)."""

    id: str
    name: str
    status: str
    created: bool
    service_ports: tuple[Mapping[str, Any], ...] = ()

    @classmethod
    def from_api(cls, data: Mapping[str, Any], *, requested_name: str) -> CreatedSession:
        """Parse a create reply; v4 servers only send ``kernelId`` (= the session name)."""
        sid = _first(data, "sessionId", "session_id", "kernelId")
        name = _first(data, "sessionName", "session_name") or requested_name
        return cls(
            id=str(sid if sid is not None else name),
            name=str(name),
            status=str(data.get("status") or "PENDING"),
            created=bool(data.get("created", True)),
            service_ports=_port_rows(data),
        )


@dataclass(frozen=True, kw_only=True)
class SessionInfo:
    """``GET /session/{id}``; the slot fields stay as the server's ``str()`` text inside ``raw``."""

    id: str | None
    name: str | None
    status: str
    image: str | None
    type: str | None
    created: str | None
    status_info: str | None
    service_ports: tuple[Mapping[str, Any], ...] = ()
    raw: Mapping[str, Any] = field(default_factory=_empty, repr=False)

    @classmethod
    def from_api(cls, data: Mapping[str, Any], *, ref: str) -> SessionInfo:
        """Parse an info reply; the server does not echo the ID or name, so ``ref`` fills the gap."""
        sid = _first(data, "sessionId", "session_id", "id")
        name = _first(data, "sessionName", "session_name", "name")
        ref_is_uuid = _looks_like_uuid(ref)
        return cls(
            id=_str(sid) if sid is not None else (ref if ref_is_uuid else None),
            name=_str(name) if name is not None else (None if ref_is_uuid else ref),
            status=str(data.get("status") or "UNKNOWN"),
            image=_str(_first(data, "image", "lang")),
            type=_str(_first(data, "type", "sessionType", "session_type")),
            created=_str(_first(data, "creationTime", "created_at", "createdAt")),
            status_info=_str(_first(data, "statusInfo", "status_info")),
            service_ports=_port_rows(data),
            raw=_frozen(data),
        )


def _looks_like_uuid(value: str) -> bool:
    parts = value.split("-")
    return [len(p) for p in parts] == [8, 4, 4, 4, 12] and all(
        c in "0123456789abcdefABCDEF" for c in value.replace("-", "")
    )


@dataclass(frozen=True, kw_only=True)
class SessionListItem:
    """One row of the GraphQL ``compute_session_list`` (v4 rows use ``sess_id``/``sess_type``)."""

    id: str
    name: str | None
    type: str | None
    image: str | None
    status: str
    status_info: str | None
    created_at: str | None
    raw: Mapping[str, Any] = field(default_factory=_empty, repr=False)

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> SessionListItem:
        """Parse one GraphQL row of any version."""
        return cls(
            id=str(_first(data, "id", "session_id", "sess_id") or ""),
            name=_str(_first(data, "name", "session_name", "sess_id")),
            type=_str(_first(data, "type", "session_type", "sess_type")),
            image=_str(_first(data, "image", "lang")),
            status=str(data.get("status") or "UNKNOWN"),
            status_info=_str(data.get("status_info")),
            created_at=_str(data.get("created_at")),
            raw=_frozen(data),
        )


@dataclass(frozen=True, kw_only=True)
class Page(Generic[T]):
    """One page of a paged listing and the total number of rows on the server."""

    items: tuple[T, ...]
    total_count: int


@dataclass(frozen=True, kw_only=True)
class ConsoleItem:
    """One ``[kind, data]`` console record: stdout, stderr, media, html, log, completion..."""

    kind: str
    data: Any

    @classmethod
    def from_api(cls, item: Any) -> ConsoleItem:
        """Parse a console record; anything that is not a pair is kept whole as an ``unknown`` item."""
        if isinstance(item, Sequence) and not isinstance(item, (str, bytes)) and len(item) == 2:
            return cls(kind=str(item[0]), data=item[1])
        return cls(kind="unknown", data=item)

    def to_api(self) -> list[Any]:
        """The wire form ``[kind, data]``."""
        return [self.kind, self.data]


@dataclass(frozen=True, kw_only=True)
class ExecutionResult:
    """One execute step (REST call or WebSocket frame)."""

    run_id: str | None
    status: str
    exit_code: int | None
    options: Mapping[str, Any]
    console: tuple[ConsoleItem, ...]
    files: tuple[Mapping[str, Any], ...] = ()
    msg: str | None = None

    @classmethod
    def from_api(cls, data: Mapping[str, Any], *, run_id: str | None = None) -> ExecutionResult:
        """Parse ``result`` of a REST execute or one WebSocket frame; ``run_id`` fills a missing ``runId``."""
        console = data.get("console")
        files = data.get("files")
        rid = _first(data, "runId", "run_id")
        return cls(
            run_id=_str(rid) if rid is not None else run_id,
            status=str(data.get("status") or "finished"),
            exit_code=_int(_first(data, "exitCode", "exit_code")),
            options=_frozen(data.get("options")),
            console=tuple(ConsoleItem.from_api(c) for c in console) if isinstance(console, list) else (),
            files=tuple(_frozen(f) for f in files if isinstance(f, Mapping))
            if isinstance(files, list)
            else (),
            msg=_str(data.get("msg")),
        )

    def to_api(self) -> dict[str, Any]:
        """The official SDK's result dict: runId, status, console, exitCode, options, files."""
        return {
            "runId": self.run_id,
            "status": self.status,
            "console": [c.to_api() for c in self.console],
            "exitCode": self.exit_code,
            "options": dict(self.options),
            "files": [dict(f) for f in self.files],
        }


@dataclass(frozen=True, kw_only=True)
class SessionEvent:
    """One lifecycle event from ``/events/session`` (or the v4 kernel event stream)."""

    name: str
    session_id: str | None
    session_name: str | None
    kernel_id: str | None
    reason: str | None
    exit_code: int | None
    raw: Mapping[str, Any] = field(default_factory=_empty, repr=False)

    @classmethod
    def from_sse(cls, event: str, data: str) -> SessionEvent:
        """Parse an SSE event whose data is a JSON object (non-JSON data is kept under ``raw['data']``)."""
        try:
            payload = json.loads(data) if data else {}
        except ValueError:
            payload = {"data": data}
        if not isinstance(payload, Mapping):
            payload = {"data": payload}
        return cls(
            name=event,
            session_id=_str(_first(payload, "sessionId", "session_id")),
            session_name=_str(_first(payload, "sessionName", "session_name", "name")),
            kernel_id=_str(_first(payload, "kernelId", "kernel_id")),
            reason=_str(payload.get("reason")),
            exit_code=_int(_first(payload, "exitCode", "exit_code")),
            raw=_frozen(payload),
        )


@dataclass(frozen=True, kw_only=True)
class VFolderInfo:
    """A virtual folder as listed, created or described by ``/folders``."""

    id: str | None
    name: str
    host: str | None
    status: str | None
    usage_mode: str | None
    permission: str | None
    is_owner: bool | None
    created_at: str | None
    raw: Mapping[str, Any] = field(default_factory=_empty, repr=False)

    @classmethod
    def from_api(cls, data: Mapping[str, Any], *, name: str | None = None) -> VFolderInfo:
        """Parse one vfolder object of any version."""
        owner = data.get("is_owner")
        return cls(
            id=_str(data.get("id")),
            name=str(data.get("name") or name or ""),
            host=_str(data.get("host")),
            status=_str(data.get("status")),
            usage_mode=_str(data.get("usage_mode")),
            permission=_str(data.get("permission")),
            is_owner=None if owner is None else bool(owner),
            created_at=_str(_first(data, "created_at", "created")),
            raw=_frozen(data),
        )


@dataclass(frozen=True, kw_only=True)
class VFolderFile:
    """One entry of a vfolder listing (``items`` on v6+, the legacy ``files`` JSON string before)."""

    name: str
    type: str
    size: int | None
    mode: str | None
    created: str | None
    modified: str | None

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> VFolderFile:
        """Parse one ``items`` row or one legacy ``files`` row (``filename``, octal ``mode``)."""
        kind = data.get("type")
        mode = data.get("mode")
        if kind is None:
            # legacy rows carry only the numeric st_mode: 0o040000 marks a directory
            numeric = _int(mode)
            kind = "DIRECTORY" if numeric is not None and numeric & 0o170000 == 0o040000 else "FILE"
        return cls(
            name=str(_first(data, "name", "filename") or ""),
            type=str(kind).upper(),
            size=_int(data.get("size")),
            mode=_str(mode),
            created=_str(_first(data, "created", "ctime")),
            modified=_str(_first(data, "modified", "mtime")),
        )

    @classmethod
    def parse_listing(cls, data: Mapping[str, Any]) -> tuple[VFolderFile, ...]:
        """Parse a whole ``/folders/{n}/files`` reply."""
        items = data.get("items")
        rows = items if isinstance(items, list) else _json_list(data.get("files"))
        return tuple(cls.from_api(r) for r in rows if isinstance(r, Mapping))

    @property
    def is_dir(self) -> bool:
        """Whether this entry is a directory."""
        return self.type == "DIRECTORY"


@dataclass(frozen=True, kw_only=True)
class VFolderHosts:
    """``GET /folders/_/hosts``: the default host, the allowed ones and per-volume details."""

    default: str | None
    allowed: tuple[str, ...]
    volume_info: Mapping[str, Any] = field(default_factory=_empty, repr=False)

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> VFolderHosts:
        """Parse a hosts reply."""
        allowed = data.get("allowed")
        return cls(
            default=_str(data.get("default")),
            allowed=tuple(str(h) for h in allowed) if isinstance(allowed, list) else (),
            volume_info=_frozen(data.get("volume_info")),
        )


@dataclass(frozen=True, kw_only=True)
class ImageInfo:
    """One row of the GraphQL ``images`` query."""

    name: str
    tag: str | None
    registry: str | None
    architecture: str | None
    digest: str | None
    installed: bool | None
    aliases: tuple[str, ...]
    labels: Mapping[str, str] = field(default_factory=_empty, repr=False)
    raw: Mapping[str, Any] = field(default_factory=_empty, repr=False)

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> ImageInfo:
        """Parse one image row; ``labels`` arrive as ``[{key, value}]``."""
        labels = data.get("labels")
        aliases = data.get("aliases")
        installed = data.get("installed")
        return cls(
            name=str(data.get("name") or ""),
            tag=_str(data.get("tag")),
            registry=_str(data.get("registry")),
            architecture=_str(data.get("architecture")),
            digest=_str(data.get("digest")),
            installed=None if installed is None else bool(installed),
            aliases=tuple(str(a) for a in aliases) if isinstance(aliases, list) else (),
            labels=MappingProxyType(
                {str(x.get("key")): str(x.get("value")) for x in labels if isinstance(x, Mapping)}
                if isinstance(labels, list)
                else {}
            ),
            raw=_frozen(data),
        )

    @property
    def full_name(self) -> str:
        """``registry/name:tag``, the reference a create call accepts."""
        ref = f"{self.registry}/{self.name}" if self.registry else self.name
        return f"{ref}:{self.tag}" if self.tag else ref


@dataclass(frozen=True, kw_only=True)
class KeypairInfo:
    """The keypair that ``POST /auth/authorize`` returns; the secret never shows in ``repr``."""

    access_key: str
    secret_key: str = field(repr=False)
    role: str | None
    status: str | None

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> KeypairInfo:
        """Parse ``data`` of an authorize reply."""
        return cls(
            access_key=str(data.get("access_key") or ""),
            secret_key=str(data.get("secret_key") or ""),
            role=_str(data.get("role")),
            status=_str(data.get("status")),
        )


@dataclass(frozen=True, kw_only=True)
class FileEntry:
    """One file inside a compute session (``GET /session/{id}/files``)."""

    filename: str
    size: int | None
    mode: str | None
    ctime: float | None
    mtime: float | None
    atime: float | None

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> FileEntry:
        """Parse one row of the decoded ``files`` string."""

        def num(key: str) -> float | None:
            value = data.get(key)
            return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None

        return cls(
            filename=str(_first(data, "filename", "name") or ""),
            size=_int(data.get("size")),
            mode=_str(data.get("mode")),
            ctime=num("ctime"),
            mtime=num("mtime"),
            atime=num("atime"),
        )

    @classmethod
    def parse_listing(cls, data: Mapping[str, Any]) -> tuple[FileEntry, ...]:
        """Parse a whole files reply, whose ``files`` is JSON inside a string."""
        return tuple(cls.from_api(r) for r in _json_list(data.get("files")) if isinstance(r, Mapping))


@dataclass(frozen=True, kw_only=True)
class TransferProgress:
    """Bytes moved so far for one file of an upload or download."""

    done: int
    total: int | None
    path: str


@dataclass(frozen=True, kw_only=True)
class Announcement:
    """``GET /manager/announcement``."""

    enabled: bool
    message: str

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> Announcement:
        """Parse an announcement reply."""
        return cls(enabled=bool(data.get("enabled")), message=str(data.get("message") or ""))
