"""The manager's ``/folders`` routes (protocol.md §7) as a 23.09 manager answers them, over folders on disk.

Each vfolder is ``<data_dir>/vfolders/<id hex>/``; the records live in ``<data_dir>/vfolders.json``. A vfolder
belongs to the access key that created it and only that key sees it. There is one host, ``local:volume1``, and
only user-owned folders (``allowed-types`` is ``["user"]``). As on 23.09, ``DELETE`` really deletes. Errors of
file operations are 400 ``invalid-api-params`` whose ``msg`` names the path and the cause, the way the manager
wraps the storage proxy's errors.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import shutil
import stat
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, fields
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Final

from aiohttp import BodyPartReader, web

from .context import CONTEXT, REQUEST_ACCESS_KEY, REQUEST_USER, LocalContext, User
from .params import read_params, reject_unknown, to_bool
from .paths import check_relpath, check_vfolder_name, resolve_in, unquote_filename
from .problems import Problem
from .storage import (
    UPLOAD_DIRNAME,
    VFOLDERS_DIRNAME,
    file_response,
    prepare_download,
    prepare_upload,
    zip_response,
)
from .tokens import ensure_token_secret

__all__ = ["HOST", "VFolderRecord", "VFolderStore", "setup_routes"]

log = logging.getLogger(__name__)

#: The one storage host of the local endpoint.
HOST: Final = "local:volume1"
RECORDS_FILE: Final = "vfolders.json"
USAGE_MODES: Final = ("general", "model", "data")
PERMISSIONS: Final = ("ro", "rw", "wd")
LEGACY_UPLOAD_MAX_FILES: Final = 10
_BINARY_SIZE: Final = re.compile(r"(\d+(?:\.\d+)?)\s*([kmgtpe]?)i?b?", re.IGNORECASE)
_MISSING: Final = object()


@dataclass
class VFolderRecord:
    """What ``vfolders.json`` keeps about one vfolder."""

    id: str  # uuid hex, also the folder name on disk
    name: str
    owner: str  # access key
    user: str  # owner's user uuid
    creator: str  # owner's email
    created_at: str  # str(datetime), as the manager prints it
    host: str = HOST
    usage_mode: str = "general"
    permission: str = "rw"
    cloneable: bool = False
    max_size: int | None = None  # MiB
    status: str = "ready"

    @property
    def quota_scope_id(self) -> str:
        """The user quota scope, as 23.09 names it."""
        return f"user:{self.user}"

    def listing(self) -> dict[str, Any]:
        """The ``GET /folders`` entry."""
        return {
            "name": self.name,
            "id": self.id,
            "quota_scope_id": self.quota_scope_id,
            "host": self.host,
            "status": self.status,
            "usage_mode": self.usage_mode,
            "created_at": self.created_at,
            "is_owner": True,
            "permission": self.permission,
            "user": self.user,
            "group": None,
            "creator": self.creator,
            "user_email": self.creator,
            "group_name": None,
            "ownership_type": "user",
            "type": "user",
            "cloneable": self.cloneable,
            "max_files": 0,
            "max_size": self.max_size,
            "cur_size": 0,  # usage is not tracked; GET /folders/{name} counts it
        }


class VFolderStore:
    """The vfolders of one data dir: the :class:`~.context.VFolderDirectory` the manager side mounts from."""

    def __init__(self, data_dir: Path) -> None:
        self._data_dir = data_dir
        self._file = data_dir / RECORDS_FILE
        self._records: dict[str, VFolderRecord] = {}
        if self._file.exists():
            known = {f.name for f in fields(VFolderRecord)}
            try:
                for raw in json.loads(self._file.read_text("utf-8")):
                    record = VFolderRecord(**{k: v for k, v in raw.items() if k in known})
                    self._records[record.id] = record
            except (ValueError, TypeError) as exc:
                raise ValueError(
                    f"{self._file} is not a valid vfolder list ({exc}); fix or remove it."
                ) from exc

    def save(self) -> None:
        """Write the records atomically."""
        self._data_dir.mkdir(parents=True, exist_ok=True)
        temp = self._file.with_suffix(".json.tmp")
        temp.write_text(json.dumps([asdict(r) for r in self._records.values()], indent=1), "utf-8")
        os.replace(temp, self._file)

    def path(self, record: VFolderRecord) -> Path:
        """The folder of ``record`` on disk."""
        return self._data_dir / VFOLDERS_DIRNAME / record.id

    def owned_by(self, access_key: str) -> list[VFolderRecord]:
        """The vfolders of ``access_key``, oldest first."""
        return [r for r in self._records.values() if r.owner == access_key]

    def get(self, access_key: str, name: str) -> VFolderRecord:
        """The vfolder ``name`` of ``access_key``; 404 ``No such virtual folder.`` otherwise."""
        for record in self._records.values():
            if record.owner == access_key and record.name == name:
                return record
        raise Problem.not_found("No such virtual folder.", msg=f"There is no vfolder named {name!r}.")

    def add(self, record: VFolderRecord) -> None:
        """Keep a new record and create its folder."""
        self.path(record).mkdir(parents=True, mode=0o755)
        self._records[record.id] = record
        self.save()

    def remove(self, record: VFolderRecord) -> None:
        """Forget a record (its folder is removed by the caller)."""
        self._records.pop(record.id, None)
        self.save()

    # VFolderDirectory

    def path_of(self, access_key: str, name: str) -> Path:
        """The folder of vfolder ``name`` visible to ``access_key``; raises ``Problem`` 404 otherwise."""
        return self.path(self.get(access_key, name))

    def list_for(self, access_key: str) -> list[dict[str, Any]]:
        """The vfolders visible to ``access_key``, as ``GET /folders`` lists them."""
        return [r.listing() for r in self.owned_by(access_key)]


# ---------------------------------------------------------------------------------------------------------
# parameter helpers (trafaret-like messages)


def _invalid(key: str, why: str) -> Problem:
    return Problem.invalid_params("Input validation error", {key: why})


def _param(params: Mapping[str, Any], *keys: str, default: Any = _MISSING) -> Any:
    """The value of the first of ``keys`` present (aliases); 400 if none is and there is no default."""
    for key in keys:
        if key in params:
            return params[key]
    if default is _MISSING:
        raise _invalid(keys[0], "is required")
    return default


def _string(params: Mapping[str, Any], *keys: str, default: Any = _MISSING) -> Any:
    value = _param(params, *keys, default=default)
    if value is not default and not isinstance(value, str):
        raise _invalid(keys[0], "value is not a string")
    return value


def _choice(params: Mapping[str, Any], key: str, choices: Iterable[str], default: str | None) -> str | None:
    value = _param(params, key, default=default)
    if value is not None and value not in choices:
        raise _invalid(key, f"value {value!r} is not one of {', '.join(choices)}")
    return None if value is None else str(value)


def _strict_bool(params: Mapping[str, Any], key: str, default: bool | None) -> bool | None:
    value = _param(params, key, default=default)
    if value is not None and not isinstance(value, bool):
        raise _invalid(key, "value should be True or False")
    return value


def _flag(params: Mapping[str, Any], key: str, default: bool) -> bool:
    value = _param(params, key, default=default)
    try:
        return to_bool(value)
    except Problem:
        raise _invalid(key, f"value can't be converted to Bool: {value!r}") from None


def _int(params: Mapping[str, Any], key: str) -> int:
    value = _param(params, key)
    try:
        if isinstance(value, bool) or not isinstance(value, int | str):
            raise ValueError
        return int(value)
    except ValueError:
        raise _invalid(key, f"value can't be converted to int: {value!r}") from None


def _binary_size(value: Any) -> int | None:
    """``"10g"`` -> bytes (binary units), as ``tx.BinarySize``; None stays None."""
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and (m := _BINARY_SIZE.fullmatch(value.strip())):
        unit = m.group(2).lower()
        scale = 1024 ** ("kmgtpe".find(unit) + 1) if unit else 1
        return int(float(m.group(1)) * scale)
    raise _invalid("quota", f"value {value!r} is not a size like '10g' or a number of bytes")


# ---------------------------------------------------------------------------------------------------------
# request context


def _ctx(request: web.Request) -> LocalContext:
    return request.config_dict[CONTEXT]


def _store(request: web.Request) -> VFolderStore:
    """The store ``setup_routes`` made (the manager side only reads it through the protocol)."""
    store = _ctx(request).vfolders
    if not isinstance(store, VFolderStore):
        raise Problem(
            503, "service-unavailable", "Service unavailable.", msg="The vfolder store is not set up."
        )
    return store


def _caller(request: web.Request) -> tuple[str, User | None]:
    access_key = request.get(REQUEST_ACCESS_KEY)
    if not access_key:
        raise Problem(401, "auth-failed", "Credential/signature mismatch.", msg="Unauthorized access")
    user = request.get(REQUEST_USER)
    return access_key, user if isinstance(user, User) else None


def _target(request: web.Request) -> tuple[VFolderStore, VFolderRecord, Path]:
    store = _store(request)
    access_key, _ = _caller(request)
    record = store.get(access_key, request.match_info["name"])
    return store, record, store.path(record)


def _fs_problem(exc: OSError, what: str) -> Problem:
    """A file-system error as the manager reports a storage-proxy failure: 400 with the path and cause."""
    reasons = {
        FileNotFoundError: "no such file or directory",
        FileExistsError: "it already exists",
        IsADirectoryError: "it is a directory",
        NotADirectoryError: "it, or a folder on its way, is not a directory",
    }
    reason = next((text for cls, text in reasons.items() if isinstance(exc, cls)), exc.strerror or str(exc))
    return Problem.invalid_params(f"Cannot {what}: {reason}.")


# ---------------------------------------------------------------------------------------------------------
# folder routes


async def _list(request: web.Request) -> web.Response:
    params = await read_params(request)
    reject_unknown(params, {"all", "group_id", "groupId", "owner_user_email", "ownerUserEmail"})
    if _flag(params, "all", False):
        raise Problem.invalid_params("Deprecated use of 'all' option")
    access_key, user = _caller(request)
    email = _string(params, "owner_user_email", "ownerUserEmail", default=None)
    keys = [access_key]
    if email is not None and (user is None or email != user.email):
        if user is None or user.role != "superadmin":
            raise Problem(
                403, "generic-forbidden", "Forbidden operation.", msg="Only superadmins may do this."
            )
        keys = [ak for ak, u in _ctx(request).users.items() if u.email == email]
    store = _store(request)
    return web.json_response([entry for key in keys for entry in store.list_for(key)])


async def _create(request: web.Request) -> web.Response:
    params = await read_params(request)
    reject_unknown(
        params,
        {"name", "host", "usage_mode", "permission", "unmanaged_path", "unmanagedPath", "group", "groupId",
         "group_id", "quota", "cloneable"},
    )  # fmt: skip
    name = check_vfolder_name(_param(params, "name"))
    host = _string(params, "host", default=None) or HOST
    usage_mode = _choice(params, "usage_mode", USAGE_MODES, "general") or "general"
    permission = _choice(params, "permission", PERMISSIONS, "rw") or "rw"
    quota = _binary_size(_param(params, "quota", default=None))
    cloneable = bool(_strict_bool(params, "cloneable", False))
    if _param(params, "unmanaged_path", "unmanagedPath", default=None):
        raise Problem.invalid_params("Unmanaged vfolders are not supported by the local endpoint.")
    if _param(params, "group", "groupId", "group_id", default=None) is not None:
        raise Problem.invalid_params("group-owned vfolder is not allowed in this cluster")
    if host != HOST:
        raise Problem.invalid_params(
            f"Unknown vfolder host {host!r}: use {HOST!r} (see GET /folders/_/hosts)."
        )
    access_key, user = _caller(request)
    store = _store(request)
    if any(r.name == name for r in store.owned_by(access_key)):
        raise Problem(400, "vfolder-already-exists", "The virtual folder already exists with the same name.",
                      data=name)  # fmt: skip
    user_uuid = (user.uuid if user else "") or str(uuid.uuid5(uuid.NAMESPACE_URL, f"backendai:{access_key}"))
    record = VFolderRecord(
        id=uuid.uuid4().hex,
        name=name,
        owner=access_key,
        user=user_uuid,
        creator=user.email if user else "",
        created_at=str(datetime.now(timezone.utc)),
        usage_mode=usage_mode,
        permission=permission,
        cloneable=cloneable,
        max_size=quota // 2**20 if quota else None,
    )
    store.add(record)
    body = {
        "id": record.id,
        "name": record.name,
        "quota_scope_id": record.quota_scope_id,
        "host": record.host,
        "usage_mode": record.usage_mode,
        "permission": record.permission,
        "max_size": record.max_size,
        "creator": record.creator,
        "ownership_type": "user",
        "user": record.user,
        "group": None,
        "cloneable": record.cloneable,
        "status": record.status,
    }
    return web.json_response(body, status=201)


def _usage(folder: Path) -> tuple[int, int]:
    count = used = 0
    for dirpath, _dirnames, filenames in os.walk(folder):
        for name in filenames:
            try:
                used += (Path(dirpath) / name).lstat().st_size
                count += 1
            except OSError:
                continue  # removed while we counted
    return count, used


async def _info(request: web.Request) -> web.Response:
    _, record, folder = _target(request)
    count, used = await asyncio.to_thread(_usage, folder)
    body = {
        "name": record.name,
        "id": record.id,
        "host": record.host,
        "quota_scope_id": record.quota_scope_id,
        "status": record.status,
        "numFiles": count,
        "num_files": count,
        "used_bytes": used,
        "created": record.created_at,
        "created_at": record.created_at,
        "last_used": record.created_at,
        "user": record.user,
        "group": None,
        "type": "user",
        "is_owner": True,
        "permission": record.permission,
        "usage_mode": record.usage_mode,
        "cloneable": record.cloneable,
        "max_size": record.max_size,
        "cur_size": used,
    }
    return web.json_response(body)


async def _delete_record(store: VFolderStore, record: VFolderRecord) -> None:
    folder = store.path(record)
    store.remove(record)
    await asyncio.to_thread(shutil.rmtree, folder, ignore_errors=True)


async def _delete(request: web.Request) -> web.Response:
    store, record, _ = _target(request)
    await _delete_record(store, record)
    return web.Response(status=204)


async def _delete_by_id(request: web.Request) -> web.Response:
    params = await read_params(request)
    reject_unknown(params, {"id"})
    raw = _string(params, "id")
    try:
        wanted = uuid.UUID(raw).hex
    except ValueError:
        raise _invalid("id", f"value {raw!r} is not a UUID") from None
    access_key, _ = _caller(request)
    store = _store(request)
    record = next((r for r in store.owned_by(access_key) if r.id == wanted), None)
    if record is None:
        raise Problem.not_found("No such virtual folder.", msg=f"There is no vfolder with id {raw!r}.")
    await _delete_record(store, record)
    return web.Response(status=204)


def _volume_info() -> dict[str, Any]:
    return {HOST: {"backend": "vfs", "capabilities": ["vfolder"], "usage": {}, "sftp_scaling_groups": []}}


async def _hosts(request: web.Request) -> web.Response:
    params = await read_params(request)
    reject_unknown(params, {"group_id", "groupId"})
    return web.json_response({"default": HOST, "allowed": [HOST], "volume_info": _volume_info()})


async def _all_hosts(request: web.Request) -> web.Response:
    reject_unknown(await read_params(request), ())
    return web.json_response({"default": HOST, "allowed": [HOST]})


async def _allowed_types(request: web.Request) -> web.Response:
    reject_unknown(await read_params(request), ())
    return web.json_response(["user"])


async def _rename(request: web.Request) -> web.Response:
    store, record, _ = _target(request)
    params = await read_params(request)
    reject_unknown(params, {"new_name"})
    new_name = check_vfolder_name(_param(params, "new_name"), key="new_name")
    if any(r.name == new_name for r in store.owned_by(record.owner)):
        raise Problem.invalid_params("One of your accessible vfolders already has the name you requested.")
    record.name = new_name
    store.save()
    return web.Response(status=201)


async def _update_options(request: web.Request) -> web.Response:
    store, record, _ = _target(request)
    params = await read_params(request)
    reject_unknown(params, {"cloneable", "permission"})
    cloneable = _strict_bool(params, "cloneable", None)
    permission = _choice(params, "permission", PERMISSIONS, None)
    if cloneable is not None:
        record.cloneable = cloneable
    if permission is not None:
        record.permission = permission
    store.save()
    return web.Response(status=201)


# ---------------------------------------------------------------------------------------------------------
# file routes


async def _mkdir(request: web.Request) -> web.Response:
    _, _, folder = _target(request)
    params = await read_params(request)
    reject_unknown(params, {"path", "parents", "exist_ok"})
    relpath = _string(params, "path")
    parents, exist_ok = _flag(params, "parents", True), _flag(params, "exist_ok", False)
    path = resolve_in(folder, relpath)
    try:
        await asyncio.to_thread(path.mkdir, 0o755, parents, exist_ok)
    except OSError as exc:
        hint = "; pass exist_ok=true to accept that" if isinstance(exc, FileExistsError) else ""
        raise _fs_problem(exc, f"create directory {relpath!r}{hint}") from exc
    return web.Response(status=201)


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


async def _files(request: web.Request) -> web.Response:
    _, _, folder = _target(request)
    params = await read_params(request)
    reject_unknown(params, {"path"})
    relpath = _string(params, "path", default="")
    path = resolve_in(folder, relpath)
    try:
        entries = await asyncio.to_thread(_scan, path, hide_upload_dir=path == folder)
    except OSError as exc:
        raise _fs_problem(exc, f"list {relpath!r}") from exc
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
    return web.json_response({"items": items, "files": json.dumps(legacy)})


def _not_root(path: Path, folder: Path, relpath: str, what: str) -> None:
    if path == folder:
        raise Problem.invalid_params(f"Invalid path {relpath!r}: cannot {what} the vfolder itself.")


async def _rename_file(request: web.Request) -> web.Response:
    _, _, folder = _target(request)
    params = await read_params(request)
    reject_unknown(params, {"target_path", "new_name", "is_dir"})
    relpath, new_name = _string(params, "target_path"), _string(params, "new_name")
    _flag(params, "is_dir", False)  # ignored since 22.03, still validated
    if len(check_relpath(new_name, what="new_name").parts) != 1:
        raise Problem.invalid_params(f"Invalid new_name {new_name!r}: give a plain name, not a path.")
    source = resolve_in(folder, relpath)
    _not_root(source, folder, relpath, "rename")
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
        raise _fs_problem(exc, f"rename {relpath!r} to {new_name!r}") from exc
    return web.json_response({})


async def _move_file(request: web.Request) -> web.Response:
    _, _, folder = _target(request)
    params = await read_params(request)
    reject_unknown(params, {"src", "dst"})
    src, dst = _string(params, "src"), _string(params, "dst")
    source = resolve_in(folder, src, what="src")
    _not_root(source, folder, src, "move")
    destination = resolve_in(folder, dst, what="dst")
    if destination.is_dir():  # like mv: into an existing directory
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
        raise _fs_problem(exc, f"move {src!r} to {dst!r}") from exc
    return web.json_response({})


async def _delete_files(request: web.Request) -> web.Response:
    _, _, folder = _target(request)
    params = await read_params(request)
    reject_unknown(params, {"files", "recursive"})
    files = _param(params, "files")
    if not isinstance(files, list) or not all(isinstance(f, str) for f in files):
        raise _invalid("files", "value is not a list of strings")
    recursive = _flag(params, "recursive", False)
    paths = [(f, resolve_in(folder, f, what="file")) for f in files]  # all checked before any is deleted
    for relpath, path in paths:
        _not_root(path, folder, relpath, "delete")

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
            raise _fs_problem(exc, f"delete {relpath!r}") from exc
    return web.json_response({})


async def _request_upload(request: web.Request) -> web.Response:
    _, record, _ = _target(request)
    params = await read_params(request)
    reject_unknown(params, {"path", "size"})
    relpath, size = _string(params, "path"), _int(params, "size")
    ctx = _ctx(request)
    token = await prepare_upload(ctx, vfid=record.id, relpath=relpath, size=size)
    return web.json_response({"token": token, "url": _storage_url(ctx) + "/upload"})


async def _request_download(request: web.Request) -> web.Response:
    _, record, _ = _target(request)
    params = await read_params(request)
    reject_unknown(params, {"path", "file", "archive"})
    relpath, archive = _string(params, "path", "file"), _flag(params, "archive", False)
    ctx = _ctx(request)
    token = prepare_download(ctx, vfid=record.id, relpath=relpath, archive=archive)
    return web.json_response({"token": token, "url": _storage_url(ctx) + "/download"})


def _storage_url(ctx: LocalContext) -> str:
    if not ctx.storage_url:
        raise Problem(
            503, "service-unavailable", "Service unavailable.", msg="The storage proxy is not running."
        )
    return ctx.storage_url.rstrip("/")


def _filename(raw: str) -> str:
    try:
        return unquote_filename(raw)
    except UnicodeDecodeError:
        raise Problem.invalid_params(f"Invalid filename {raw!r}: it is not percent-encoded UTF-8.") from None


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


async def _legacy_upload(request: web.Request) -> web.Response:
    """v4/v5 ``POST /folders/{name}/upload``: multipart, field ``src``, filename = path in the folder."""
    _, _, folder = _target(request)
    try:
        reader = await request.multipart()
    except (AssertionError, ValueError, KeyError):
        raise Problem.invalid_params("Send the files as multipart/form-data with the field 'src'.") from None
    count = 0
    while (part := await reader.next()) is not None:
        if not isinstance(part, BodyPartReader) or part.name != "src":
            field = part.name if isinstance(part, BodyPartReader) else "(nested multipart)"
            raise Problem.invalid_params(f"Unexpected multipart field {field!r}: send files as 'src'.")
        count += 1
        if count > LEGACY_UPLOAD_MAX_FILES:
            raise Problem.invalid_params(f"Too many files: at most {LEGACY_UPLOAD_MAX_FILES} per request.")
        if not part.filename:
            raise Problem.invalid_params("Each 'src' part needs a filename (the path in the vfolder).")
        filename = _filename(part.filename)
        path = resolve_in(folder, filename, what="filename")
        _not_root(path, folder, filename, "overwrite")
        try:
            await asyncio.to_thread(path.parent.mkdir, parents=True, exist_ok=True)
            await _write_part(part, path)
        except OSError as exc:
            raise _fs_problem(exc, f"write {filename!r}") from exc
    return web.Response(status=201)


async def _legacy_download_single(request: web.Request) -> web.StreamResponse:
    """v4/v5 ``GET /folders/{name}/download_single?file=&archive=``: the raw bytes (a directory as zip)."""
    _, _, folder = _target(request)
    params = await read_params(request)
    reject_unknown(params, {"file", "archive"})
    relpath, archive = _string(params, "file"), _flag(params, "archive", False)
    path = resolve_in(folder, relpath, what="file")
    if not path.exists():
        raise Problem.invalid_params(f"Cannot download {relpath!r}: no such file or directory.")
    if path.is_dir():
        if not archive:
            raise Problem.invalid_params(f"{relpath!r} is a directory: download it with archive=true.")
        name = path.name if path != folder else request.match_info["name"]
        return await zip_response(request, path, roots=[folder], filename=name + ".zip")
    if not path.is_file():
        raise Problem.invalid_params(f"Cannot download {relpath!r}: it is not a regular file.")
    return file_response(path)


def setup_routes(app: web.Application) -> None:
    """Add the ``/folders`` routes to the manager app; set ``ctx.vfolders`` to the store of its data dir."""
    ctx = app[CONTEXT]
    ensure_token_secret(ctx)
    ctx.vfolders = VFolderStore(ctx.data_dir)
    (ctx.data_dir / VFOLDERS_DIRNAME).mkdir(parents=True, exist_ok=True)
    r = app.router
    # the "_" routes first: "_" is not a valid vfolder name, so nothing is shadowed
    r.add_get("/folders/_/hosts", _hosts, allow_head=False)
    r.add_get("/folders/_/all-hosts", _all_hosts, allow_head=False)
    r.add_get("/folders/_/all_hosts", _all_hosts, allow_head=False)
    r.add_get("/folders/_/allowed-types", _allowed_types, allow_head=False)
    r.add_get("/folders/_/allowed_types", _allowed_types, allow_head=False)
    r.add_get("/folders", _list, allow_head=False)
    r.add_post("/folders", _create)
    r.add_delete("/folders", _delete_by_id)
    r.add_get("/folders/{name}", _info, allow_head=False)
    r.add_delete("/folders/{name}", _delete)
    r.add_post("/folders/{name}/rename", _rename)
    r.add_post("/folders/{name}/update-options", _update_options)
    r.add_post("/folders/{name}/mkdir", _mkdir)
    r.add_post("/folders/{name}/request-upload", _request_upload)
    r.add_post("/folders/{name}/request-download", _request_download)
    r.add_post("/folders/{name}/move-file", _move_file)
    r.add_post("/folders/{name}/rename-file", _rename_file)
    r.add_post("/folders/{name}/rename_file", _rename_file)
    r.add_delete("/folders/{name}/delete-files", _delete_files)
    r.add_delete("/folders/{name}/delete_files", _delete_files)
    r.add_post("/folders/{name}/delete-files", _delete_files)  # 24.09+ also takes POST
    r.add_get("/folders/{name}/files", _files, allow_head=False)
    r.add_post("/folders/{name}/upload", _legacy_upload)
    r.add_get("/folders/{name}/download_single", _legacy_download_single, allow_head=False)
