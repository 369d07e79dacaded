"""The SSE routes of session lifecycle events: ``/events/session`` and v4's ``/stream/kernel/_/events``."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Mapping
from typing import Any, Final

from aiohttp import web

from .context import BUS, CONTEXT, REQUEST_ACCESS_KEY, REQUEST_USER
from .eventbus import Event
from .params import invalid_field, parse_uuid, read_params, reject_unknown
from .problems import Problem

__all__ = ["setup_routes"]

#: how session events are named on the v4 stream (``kernel_*``); kernel-scope events pass through by name
V4_NAMES: Final[Mapping[str, str]] = {
    "session_enqueued": "kernel_enqueued",
    "session_started": "kernel_started",
    "session_terminating": "kernel_terminating",
    "session_terminated": "kernel_terminated",
    "session_cancelled": "kernel_cancelled",
    "session_success": "kernel_success",
    "session_failure": "kernel_failure",
    "kernel_preparing": "kernel_preparing",
    "kernel_pulling": "kernel_pulling",
    "kernel_creating": "kernel_creating",
}


async def _stream(request: web.Request, matches: Callable[[Event], bool], *, v4: bool) -> web.StreamResponse:
    bus = request.app[BUS]
    response = web.StreamResponse(headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"})
    with bus.subscribe() as queue:
        await response.prepare(request)
        while True:
            try:
                event = await asyncio.wait_for(queue.get(), bus.ping_interval)
            except asyncio.TimeoutError:
                await response.write(b": ping\r\n\r\n")
                continue
            if event is None:
                break
            if not matches(event):
                continue
            name, data = event.name, event.data
            if v4:
                if name not in V4_NAMES:
                    continue
                name = V4_NAMES[name]
                data = {
                    "sessionId": data.get("sessionName"),
                    "ownerAccessKey": data.get("ownerAccessKey"),
                    "reason": data.get("reason"),
                }
            await response.write(f"event: {name}\r\ndata: {json.dumps(data)}\r\n\r\n".encode())
    return response


def _session_id_param(params: dict[str, Any]) -> str | None:
    raw = params.get("sessionId")
    if raw is None:
        return None
    try:
        return str(parse_uuid(raw))
    except ValueError:
        # 23.09 validates it with tx.UUID: a name given as sessionId is a 400, not an empty stream
        raise invalid_field("sessionId", f"{raw!r} is not a UUID; pass a name as sessionName.") from None


async def session_events(request: web.Request) -> web.StreamResponse:
    """``GET /events/session``: lifecycle events, filtered as the 23.09 manager filters them.

    Nothing is looked up when the stream opens: a name or id of a session that does not exist yet is
    watched until such a session appears (users open the stream before they create the session).
    """
    params = await read_params(request)
    reject_unknown(
        params, {"sessionId", "name", "sessionName", "ownerAccessKey", "group", "groupName", "scope"}
    )
    scope = str(params.get("scope", "*"))
    if scope not in ("*", "session", "kernel"):
        raise Problem.invalid_params(f"scope={scope!r}: use '*', 'session' or 'kernel'.")
    name = str(params.get("sessionName", params.get("name", "*")))
    group = str(params.get("groupName", params.get("group", "*")))
    requester = request[REQUEST_ACCESS_KEY]
    owner = str(params.get("ownerAccessKey") or requester)
    user = request[REQUEST_USER]
    is_admin = user.role in ("superadmin", "admin")
    if owner != requester and not is_admin:
        raise Problem(
            403, "generic-forbidden", "Forbidden operation.", msg="You may only watch your own sessions."
        )
    session_id = _session_id_param(params)
    users = request.app[CONTEXT].users

    def visible(event: Event) -> bool:
        # a plain user sees the sessions of any of their keypairs, and only those (23.09: user_uuid)
        event_owner = event.data.get("ownerAccessKey")
        if is_admin or event_owner == requester:
            return True
        other = users.get(str(event_owner))
        return other is not None and bool(user.uuid) and other.uuid == user.uuid

    def matches(event: Event) -> bool:
        if not visible(event):
            return False
        if group != "*" and event.group != group:
            return False
        kind = event.name.partition("_")[0]
        if scope != "*" and kind != scope:
            return False
        if session_id is not None:
            # sessionId overrides sessionName and ownerAccessKey
            return str(event.data.get("sessionId")) == session_id
        if name == "*":
            return True
        return event.data.get("sessionName") == name and event.data.get("ownerAccessKey") == owner

    return await _stream(request, matches, v4=False)


async def kernel_events_v4(request: web.Request) -> web.StreamResponse:
    """``GET /stream/kernel/_/events?sessionId=<name>``: the v4 stream, events named ``kernel_*``."""
    params = await read_params(request)
    reject_unknown(params, {"sessionId", "ownerAccessKey"})
    name = params.get("sessionId")
    if not name:
        raise Problem.invalid_params("sessionId is required (the session name).")
    owner = str(params.get("ownerAccessKey") or request[REQUEST_ACCESS_KEY])

    def matches(event: Event) -> bool:
        return event.data.get("sessionName") == name and event.data.get("ownerAccessKey") == owner

    return await _stream(request, matches, v4=True)


def setup_routes(app: web.Application) -> None:
    """Add the event streams to ``app``."""
    app.router.add_get("/events/session", session_events)
    app.router.add_get("/stream/kernel/_/events", kernel_events_v4)
