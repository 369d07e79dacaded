"""The manager's ``/folders`` routes (docs/protocol.md §7) as a 23.09 manager answers them.

The folders and their records are ``vfolder_store.VFolderStore``; what happens inside a folder is
``vfolder_files``; uploads and downloads of big files go through the storage-proxy emulation (``storage.py``),
which these routes hand tickets for.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Final

from aiohttp import BodyPartReader, web

from .context import CONTEXT, REQUEST_ACCESS_KEY, REQUEST_USER
from .endpoint_state import LocalContext, User
from .params import (
    bool_field,
    choice_field,
    field,
    int_field,
    invalid_field,
    parse_size,
    parse_uuid,
    read_params,
    reject_unknown,
    str_field,
    strict_bool_field,
)
from .paths import check_vfolder_name, resolve_in, unquote_filename
from .problems import Problem
from .storage import file_response, prepare_download, prepare_upload, zip_response
from .tokens import ensure_token_secret
from .vfolder_files import (
    delete_entries,
    list_directory,
    make_directory,
    move_entry,
    rename_entry,
    save_part,
    usage,
)
from .vfolder_store import HOST, PERMISSIONS, USAGE_MODES, VFolderRecord, VFolderStore

__all__ = ["setup_routes"]

LEGACY_UPLOAD_MAX_FILES: Final = 10


# ---- request context ---------------------------------------------------------------------------------------


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


def _quota(params: dict[str, Any]) -> int | None:
    """``quota`` in bytes, given as a number of bytes or a size such as ``"10g"`` (as ``tx.BinarySize``)."""
    value = field(params, "quota", default=None)
    if value is None:
        return None
    try:
        return parse_size(value)
    except ValueError:
        raise invalid_field(
            "quota", f"value {value!r} is not a size like '10g' or a number of bytes"
        ) from None


# ---- folder routes -----------------------------------------------------------------------------------------


async def _list(request: web.Request) -> web.Response:
    params = await read_params(request)
    reject_unknown(params, {"all", "group_id", "groupId", "owner_user_email", "ownerUserEmail"})
    if bool_field(params, "all", False):
        raise Problem.invalid_params("Deprecated use of 'all' option")
    access_key, user = _caller(request)
    email = str_field(params, "owner_user_email", "ownerUserEmail", default=None)
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
    name = check_vfolder_name(field(params, "name"))
    host = str_field(params, "host", default=None) or HOST
    usage_mode = choice_field(params, "usage_mode", USAGE_MODES, "general") or "general"
    permission = choice_field(params, "permission", PERMISSIONS, "rw") or "rw"
    quota = _quota(params)
    cloneable = bool(strict_bool_field(params, "cloneable", False))
    if field(params, "unmanaged_path", "unmanagedPath", default=None):
        raise Problem.invalid_params("Unmanaged vfolders are not supported by the local endpoint.")
    if field(params, "group", "groupId", "group_id", default=None) is not None:
        raise Problem.invalid_params("group-owned vfolder is not allowed in this cluster")
    if host != HOST:
        raise Problem.invalid_params(
            f"Unknown vfolder host {host!r}: use {HOST!r} (see GET /folders/_/hosts)."
        )
    access_key, user = _caller(request)
    record = _store(request).create(
        access_key,
        user,
        name=name,
        usage_mode=usage_mode,
        permission=permission,
        cloneable=cloneable,
        quota=quota,
    )
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


async def _info(request: web.Request) -> web.Response:
    _, record, folder = _target(request)
    count, used = await usage(folder)
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


async def _delete(request: web.Request) -> web.Response:
    store, record, _ = _target(request)
    await store.delete(record)
    return web.Response(status=204)


async def _delete_by_id(request: web.Request) -> web.Response:
    params = await read_params(request)
    reject_unknown(params, {"id"})
    raw = str_field(params, "id")
    try:
        wanted = parse_uuid(raw).hex
    except ValueError:
        raise invalid_field("id", f"value {raw!r} is not a UUID") from None
    access_key, _ = _caller(request)
    store = _store(request)
    record = store.get_by_id(access_key, wanted)
    if record is None:
        raise Problem.not_found("No such virtual folder.", msg=f"There is no vfolder with id {raw!r}.")
    await store.delete(record)
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
    new_name = check_vfolder_name(field(params, "new_name"), key="new_name")
    store.rename(record, new_name)
    return web.Response(status=201)


async def _update_options(request: web.Request) -> web.Response:
    store, record, _ = _target(request)
    params = await read_params(request)
    reject_unknown(params, {"cloneable", "permission"})
    cloneable = strict_bool_field(params, "cloneable", None)
    permission = choice_field(params, "permission", PERMISSIONS, None)
    store.update_options(record, cloneable=cloneable, permission=permission)
    return web.Response(status=201)


# ---- file routes -------------------------------------------------------------------------------------------


async def _mkdir(request: web.Request) -> web.Response:
    _, _, folder = _target(request)
    params = await read_params(request)
    reject_unknown(params, {"path", "parents", "exist_ok"})
    relpath = str_field(params, "path")
    parents, exist_ok = bool_field(params, "parents", True), bool_field(params, "exist_ok", False)
    await make_directory(folder, relpath, parents=parents, exist_ok=exist_ok)
    return web.Response(status=201)


async def _files(request: web.Request) -> web.Response:
    _, _, folder = _target(request)
    params = await read_params(request)
    reject_unknown(params, {"path"})
    return web.json_response(await list_directory(folder, str_field(params, "path", default="")))


async def _rename_file(request: web.Request) -> web.Response:
    _, _, folder = _target(request)
    params = await read_params(request)
    reject_unknown(params, {"target_path", "new_name", "is_dir"})
    relpath, new_name = str_field(params, "target_path"), str_field(params, "new_name")
    bool_field(params, "is_dir", False)  # ignored since 22.03, still validated
    await rename_entry(folder, relpath, new_name)
    return web.json_response({})


async def _move_file(request: web.Request) -> web.Response:
    _, _, folder = _target(request)
    params = await read_params(request)
    reject_unknown(params, {"src", "dst"})
    await move_entry(folder, str_field(params, "src"), str_field(params, "dst"))
    return web.json_response({})


async def _delete_files(request: web.Request) -> web.Response:
    _, _, folder = _target(request)
    params = await read_params(request)
    reject_unknown(params, {"files", "recursive"})
    files = field(params, "files")
    if not isinstance(files, list) or not all(isinstance(f, str) for f in files):
        raise invalid_field("files", "value is not a list of strings")
    await delete_entries(folder, files, recursive=bool_field(params, "recursive", False))
    return web.json_response({})


def _storage_url(ctx: LocalContext) -> str:
    if not ctx.storage_url:
        raise Problem(
            503, "service-unavailable", "Service unavailable.", msg="The storage proxy is not running."
        )
    return ctx.storage_url.rstrip("/")


async def _request_upload(request: web.Request) -> web.Response:
    _, record, _ = _target(request)
    params = await read_params(request)
    reject_unknown(params, {"path", "size"})
    relpath, size = str_field(params, "path"), int_field(params, "size")
    ctx = _ctx(request)
    token = await prepare_upload(ctx, vfid=record.id, relpath=relpath, size=size)
    return web.json_response({"token": token, "url": _storage_url(ctx) + "/upload"})


async def _request_download(request: web.Request) -> web.Response:
    _, record, _ = _target(request)
    params = await read_params(request)
    reject_unknown(params, {"path", "file", "archive"})
    relpath, archive = str_field(params, "path", "file"), bool_field(params, "archive", False)
    ctx = _ctx(request)
    token = prepare_download(ctx, vfid=record.id, relpath=relpath, archive=archive)
    return web.json_response({"token": token, "url": _storage_url(ctx) + "/download"})


def _filename(raw: str) -> str:
    try:
        return unquote_filename(raw)
    except UnicodeDecodeError:
        raise Problem.invalid_params(f"Invalid filename {raw!r}: it is not percent-encoded UTF-8.") from None


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
            name = part.name if isinstance(part, BodyPartReader) else "(nested multipart)"
            raise Problem.invalid_params(f"Unexpected multipart field {name!r}: send files as 'src'.")
        count += 1
        if count > LEGACY_UPLOAD_MAX_FILES:
            raise Problem.invalid_params(f"Too many files: at most {LEGACY_UPLOAD_MAX_FILES} per request.")
        if not part.filename:
            raise Problem.invalid_params("Each 'src' part needs a filename (the path in the vfolder).")
        await save_part(folder, _filename(part.filename), part)
    return web.Response(status=201)


async def _legacy_download_single(request: web.Request) -> web.StreamResponse:
    """v4/v5 ``GET /folders/{name}/download_single?file=&archive=``: the raw bytes (a directory as zip)."""
    _, _, folder = _target(request)
    params = await read_params(request)
    reject_unknown(params, {"file", "archive"})
    relpath, archive = str_field(params, "file"), bool_field(params, "archive", False)
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
