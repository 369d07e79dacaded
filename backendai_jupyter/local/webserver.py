"""Session mode as the Backend.AI web server offers it: ``/server/login``, a cookie, then ``/func/<path>``.

``/func/...`` requests reach the very same handlers as signed calls (every manager route is mirrored under
``/func`` once all routes exist), authenticated by the ``AIOHTTP_SESSION`` cookie or ``X-BackendAI-
SessionID``.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from ..wire import PROBLEM_PREFIX
from .auth import anonymous
from .context import CONTEXT, WEB_SESSIONS
from .endpoint_state import User
from .params import read_params
from .problems import Problem
from .state import check_login
from .websessions import COOKIE_MAX_AGE, WebSessions

__all__ = ["COOKIE_NAME", "mirror_func_routes", "setup_routes", "web_session_user"]

COOKIE_NAME = "AIOHTTP_SESSION"
SESSION_HEADER = "X-BackendAI-SessionID"


def _session_id(request: web.Request) -> str | None:
    return request.headers.get(SESSION_HEADER) or request.cookies.get(COOKIE_NAME)


def web_session_user(request: web.Request) -> User | None:
    """The user behind the request's session cookie (or ``X-BackendAI-SessionID``), if logged in."""
    access_key = request.app[WEB_SESSIONS].access_key_of(_session_id(request))
    if access_key is None:
        return None
    return request.app[CONTEXT].users.get(access_key)


def _failure(details: str) -> dict[str, Any]:
    return {
        "authenticated": False,
        "data": {"type": PROBLEM_PREFIX + "auth-failed", "title": "Unauthorized access", "details": details},
    }


@anonymous
async def login(request: web.Request) -> web.Response:
    """``POST /server/login``: 200 ``{"authenticated": bool, "data": ...}``; sets the session cookie."""
    sessions = request.app[WEB_SESSIONS]
    if web_session_user(request) is not None:
        raise Problem(400, "generic-bad-request", "Bad request.", msg="You have already logged in.")
    params = await read_params(request)
    username, password = params.get("username"), params.get("password")
    if not isinstance(username, str) or not isinstance(password, str):
        raise Problem.invalid_params("username and password are required.")
    if sessions.locked(username):
        raise Problem(
            429,
            "too-many-requests",
            "Too many failed login attempts.",
            msg="Wait 20 minutes before trying again.",
        )
    ctx = request.app[CONTEXT]
    user = next((u for u in ctx.users.values() if u.email == username), None)
    if user is None or not check_login(ctx.data_dir, username, password):
        sessions.note_failure(username)
        return web.json_response(_failure("User credential mismatch."))
    session_id = sessions.open(user.access_key)
    body = {
        "authenticated": True,
        "data": {"access_key": user.access_key, "role": user.role, "status": "active"},
    }
    response = web.json_response(body, headers={SESSION_HEADER: session_id})
    response.set_cookie(COOKIE_NAME, session_id, max_age=COOKIE_MAX_AGE, httponly=True, samesite="Lax")
    return response


@anonymous
async def logout(request: web.Request) -> web.Response:
    """``POST /server/logout``: 201, cookie cleared."""
    request.app[WEB_SESSIONS].close(_session_id(request))
    response = web.Response(status=201)
    response.del_cookie(COOKIE_NAME)
    return response


@anonymous
async def login_check(request: web.Request) -> web.Response:
    """``POST /server/login-check``: whether the cookie is logged in."""
    user = web_session_user(request)
    data: dict[str, Any] = {}
    if user is not None:
        data = {"access_key": user.access_key, "role": user.role, "status": "active"}
    return web.json_response(
        {
            "authenticated": user is not None,
            "data": data,
            "session_id": _session_id(request) if user else None,
        }
    )


def setup_routes(app: web.Application) -> None:
    """Add the ``/server/*`` routes to ``app``."""
    app[WEB_SESSIONS] = WebSessions()
    app.router.add_post("/server/login", login)
    app.router.add_post("/server/logout", logout)
    app.router.add_post("/server/login-check", login_check)


def mirror_func_routes(app: web.Application) -> None:
    """Serve every manager route also under ``/func`` (call once, after all routes are added)."""
    for resource in list(app.router.resources()):
        info = resource.get_info()
        path = info.get("path") or info.get("formatter")
        if not isinstance(path, str) or path.startswith(("/server/", "/func")):
            continue
        # a custom regex in a route parameter is not kept; the manager's routes use plain {name} parameters
        target = "/func/" if path == "/" else "/func" + path
        for route in resource:
            app.router.add_route(route.method, target, route.handler)
        if path == "/":
            for route in resource:
                app.router.add_route(route.method, "/func", route.handler)
