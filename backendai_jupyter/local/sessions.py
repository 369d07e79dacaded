"""The ``/session`` routes and their v4 ``/kernel`` aliases: create, info, destroy, restart, interrupt..."""

from __future__ import annotations

import asyncio
import re
from datetime import datetime
from decimal import Decimal
from typing import Any

from aiohttp import web

from .context import CONFIG, CONTEXT, REGISTRY, REQUEST_ACCESS_KEY
from .createparams import parse_create
from .images import canonical_image, image_registry
from .params import parse_session_name, read_json_object, read_params, reject_unknown, to_bool
from .problems import Problem
from .registry import Registry, Session
from .signing import version_header

__all__ = ["setup_routes"]


def _registry(request: web.Request) -> Registry:
    return request.app[REGISTRY]


def _owner(request: web.Request, params: dict[str, Any] | None = None) -> str:
    """The requester's access key, or ``owner_access_key`` where the manager honours it (admins)."""
    if params and params.get("owner_access_key"):
        return str(params["owner_access_key"])
    return str(request[REQUEST_ACCESS_KEY])


def _find(request: web.Request, *, owner: str | None = None, allow_stale: bool = False) -> Session:
    name = request.match_info["session_name"]
    return _registry(request).find(owner or request[REQUEST_ACCESS_KEY], name, allow_stale=allow_stale)


def _is_v4(request: web.Request) -> bool:
    return request.path.removeprefix("/func").startswith("/kernel")


def _uses_legacy_config(request: web.Request) -> bool:
    version = version_header(request) or ""
    match = re.match(r"^v(\d+)\.", version)
    return match is not None and int(match.group(1)) < 6


async def create(request: web.Request) -> web.Response:
    """``POST /session``: get-or-create (docs/protocol.md §4.1)."""
    registry = _registry(request)
    params = await read_params(request)
    if _uses_legacy_config(request) and isinstance(params.get("config"), dict):
        # v4/v5 clients put clusterSize inside config
        params = {**params, "config": dict(params["config"])}
        params.setdefault("clusterSize", params["config"].pop("clusterSize", None))
    parsed = parse_create(
        request.app[CONTEXT], request.app[CONFIG].images, params, requester=request[REQUEST_ACCESS_KEY]
    )
    owner = parsed.owner or request[REQUEST_ACCESS_KEY]
    existing = registry.active_named(owner, parsed.spec.name)
    if existing is not None:
        # the manager compares resolved references: an alias reuses a session made with its canonical name
        same_image = canonical_image(existing.record.spec.image) == canonical_image(parsed.spec.image)
        if parsed.reuse and same_image:
            return web.json_response(_created_body(request, existing, created=False), status=201)
        raise Problem(
            400,
            "session-already-exists",
            "The session already exists but you requested not to reuse existing one.",
            data={"existingSessionId": existing.record.id},
        )
    session = await registry.create(owner, parsed.spec)
    status = session.record.status
    if not parsed.enqueue_only:
        try:
            await asyncio.wait_for(session.settled.wait(), parsed.max_wait or None)
            status = session.record.status
        except asyncio.TimeoutError:
            status = "TIMEOUT"
    body = _created_body(request, session, created=True)
    body["status"] = status
    return web.json_response(body, status=201)


def _created_body(request: web.Request, session: Session, *, created: bool) -> dict[str, Any]:
    record = session.record
    if _is_v4(request):
        return {"kernelId": record.name, "status": record.status, "servicePorts": [], "created": created}
    body: dict[str, Any] = {"sessionId": record.id, "sessionName": record.name, "status": record.status}
    # a reused session answers with the raw snake_case rows, a new one with servicePorts
    # (docs/protocol.md §4.1)
    body["servicePorts" if created else "service_ports"] = []
    body["created"] = created
    return body


def _slots(values: dict[str, str]) -> str:
    # the manager sends these as Python str() of a ResourceSlot, not JSON (docs/protocol.md §4.2)
    return str({k: Decimal(v) if v.replace(".", "", 1).isdigit() else v for k, v in values.items()})


async def info(request: web.Request) -> web.Response:
    """``GET /session/{id}``: the 23.09 info fields, str()-repr quirks included."""
    session = _find(request)
    record, spec = session.record, session.record.spec
    created = datetime.fromisoformat(record.created_at)
    age_ms = int((datetime.now(created.tzinfo) - created).total_seconds() * 1000)
    slots = _slots(spec.resources)
    body = {
        "domainName": spec.domain,
        "groupId": spec.group,
        "userId": request.app[CONTEXT].users[record.owner].uuid
        if record.owner in request.app[CONTEXT].users
        else "",
        # the canonical reference, as the manager stores it (an alias given on create is resolved)
        "lang": canonical_image(spec.image),
        "image": canonical_image(spec.image),
        "architecture": spec.architecture,
        "registry": image_registry(spec.image),
        "tag": spec.tag,
        "containerId": record.kernel_id,
        "occupiedSlots": slots,
        "occupyingSlots": slots,
        "requestedSlots": slots,
        "occupiedShares": str({}),
        "environ": str(spec.environ),
        "resourceOpts": str(spec.resource_opts),
        "status": record.status,
        "statusInfo": record.status_info or "",  # the manager sends str() of it: "" while running
        "statusData": record.status_data,
        "age": age_ms,
        "creationTime": record.created_at,
        "terminationTime": record.terminated_at,
        "numQueriesExecuted": record.num_queries,
        "lastStat": {},
        "idleChecks": {},
    }
    return web.json_response(body)


async def destroy(request: web.Request) -> web.Response:
    """``DELETE /session/{id}?forced=&recursive=&owner_access_key=``: 200 ``{"stats": ...}``."""
    params = await read_params(request)
    reject_unknown(params, {"forced", "recursive", "owner_access_key"})
    session = _find(request, owner=_owner(request, params))
    registry = _registry(request)
    forced = to_bool(params.get("forced", False))
    if to_bool(params.get("recursive", False)):
        dependents = [
            s
            for s in registry.sessions.values()
            if s.active
            and s.record.owner == session.record.owner
            and (
                session.record.id in s.record.spec.dependencies
                or session.record.name in s.record.spec.dependencies
            )
        ]
        stats = [await registry.destroy(s, forced=forced) for s in [*dependents, session]]
        return web.json_response(stats)
    return web.json_response({"stats": await registry.destroy(session, forced=forced)})


async def restart(request: web.Request) -> web.Response:
    """``PATCH /session/{id}``: state reset, files kept; 204."""
    params = await read_params(request)
    reject_unknown(params, {"owner_access_key"})
    session = _find(request, owner=_owner(request, params))
    await _registry(request).restart(session)
    return web.Response(status=204)


async def interrupt(request: web.Request) -> web.Response:
    """``POST /session/{id}/interrupt``: SIGINT to the running code; 204 (best effort)."""
    session = _find(request)
    await session.executor.interrupt()
    return web.Response(status=204)


async def complete(request: web.Request) -> web.Response:
    """``POST /session/{id}/complete``: real completions from the session's kernel."""
    session = _find(request)
    body = await read_json_object(request, example='{"code": "pri", "options": {"row": 0, "col": 3}}')
    code = body.get("code") or ""
    options = body.get("options") or {}
    if not isinstance(code, str) or not isinstance(options, dict):
        raise Problem.invalid_params("code must be a string and options an object {row, col, line, post}.")
    runtime = await session.wait_running(session.config.kernel_start_timeout)
    post = options.get("post") or ""
    try:
        matches = await runtime.complete(code + str(post), len(code))
    except asyncio.TimeoutError:
        matches = []
    return web.json_response({"result": {"status": "finished", "completions": matches}})


async def rename(request: web.Request) -> web.Response:
    """``POST /session/{id}/rename?name=<new>`` (query or JSON; aliases session_name, clientSessionToken)."""
    params = await read_params(request)
    reject_unknown(params, {"name", "session_name", "clientSessionToken"})
    new_name = params.get("name") or params.get("session_name") or params.get("clientSessionToken")
    try:
        new_name = parse_session_name(new_name)
    except ValueError as exc:
        raise Problem.invalid_params(f"name={new_name!r}: {exc}.") from None
    session = _find(request, allow_stale=True)
    if session.record.status != "RUNNING":
        raise Problem.invalid_params(
            f"Only running sessions can be renamed ({session.record.name} is {session.record.status})."
        )
    other = _registry(request).active_named(session.record.owner, new_name)
    if other is not None and other is not session:
        raise Problem(
            400,
            "session-already-exists",
            "The session already exists.",
            data={"existingSessionId": other.record.id},
        )
    session.record.spec.name = new_name
    _registry(request).save()
    return web.Response(status=204)


async def _log_text(session: Session) -> str:
    """The session's kernel log ("" before the kernel wrote any), read off the event loop."""

    def read() -> str:
        try:
            return session.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    return await asyncio.to_thread(read)


async def logs(request: web.Request) -> web.Response:
    """``GET /session/{id}/logs``: the session's kernel output (also after it ended)."""
    params = await read_params(request)
    reject_unknown(params, {"owner_access_key"})
    session = _find(request, owner=_owner(request, params), allow_stale=True)
    text = await _log_text(session)
    return web.json_response({"result": {"logs": text}})


async def task_logs(request: web.Request) -> web.StreamResponse:
    """``GET /session/_/logs?taskId=<uuid>``: a batch task's log as text/plain."""
    params = await read_params(request)
    reject_unknown(params, {"taskId", "task_id", "session_name", "sessionName"})
    key = (
        params.get("taskId")
        or params.get("task_id")
        or params.get("session_name")
        or params.get("sessionName")
    )
    if not key:
        raise Problem.invalid_params("taskId is required (the batch session's ID).")
    session = _registry(request).find(request[REQUEST_ACCESS_KEY], str(key), allow_stale=True)
    text = await _log_text(session)
    return web.Response(text=text, content_type="text/plain")


async def match(request: web.Request) -> web.Response:
    """``GET /session/_/match?id=<prefix>``: active sessions whose ID or name starts with the prefix."""
    params = await read_params(request)
    reject_unknown(params, {"id"})
    prefix = str(params.get("id") or "")
    if not prefix:
        raise Problem.invalid_params("id is required (a session ID or name prefix).")
    owner = request[REQUEST_ACCESS_KEY]
    found = [
        {"id": s.record.id, "name": s.record.name, "status": s.record.status}
        for s in _registry(request).sessions.values()
        if s.active
        and s.record.owner == owner
        and (s.record.id.startswith(prefix) or s.record.name.startswith(prefix))
    ]
    return web.json_response({"matches": found})


def setup_routes(app: web.Application) -> None:
    """Add the session routes (v5+ ``/session`` and v4 ``/kernel``) to ``app``."""
    router = app.router
    router.add_get("/session/_/match", match)
    router.add_get("/session/_/logs", task_logs)
    for prefix in ("/session", "/kernel"):
        router.add_post(prefix, create)
        router.add_post(prefix + ("/_/create" if prefix == "/session" else "/create"), create)
        router.add_get(prefix + "/{session_name}", info)
        router.add_delete(prefix + "/{session_name}", destroy)
        router.add_patch(prefix + "/{session_name}", restart)
        router.add_post(prefix + "/{session_name}/interrupt", interrupt)
        router.add_post(prefix + "/{session_name}/complete", complete)
        router.add_post(prefix + "/{session_name}/rename", rename)
        router.add_get(prefix + "/{session_name}/logs", logs)
