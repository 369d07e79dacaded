"""Manager-level routes: the version probe ``GET /``, ``/manager/*`` and ``/auth/*``."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from ..wire import MANAGER_VERSION_23_09, VERSION_23_09
from .auth import anonymous
from .context import CONTEXT, REGISTRY
from .params import read_params, reject_unknown
from .problems import Problem
from .state import check_login

__all__ = ["setup_routes"]


@anonymous
async def hello(request: web.Request) -> web.Response:
    """``GET /``: the version probe (unsigned)."""
    return web.json_response({"version": VERSION_23_09, "manager": MANAGER_VERSION_23_09})


@anonymous
async def manager_status(request: web.Request) -> web.Response:
    """``GET /manager/status``: this one node, running."""
    active = sum(1 for s in request.app[REGISTRY].sessions.values() if s.active)
    node = {
        "id": "local",
        "num_proc": 1,
        "service_addr": request.host,
        "heartbeat_timeout": 5.0,
        "ssl_enabled": False,
        "active_sessions": active,
        "status": "running",
        "version": MANAGER_VERSION_23_09,
        "api_version": VERSION_23_09,
    }
    return web.json_response({"nodes": [node], "status": "running", "active_sessions": active})


@anonymous
async def announcement(request: web.Request) -> web.Response:
    """``GET /manager/announcement``: nothing to announce."""
    return web.json_response({"enabled": False, "message": ""})


@anonymous
async def authorize(request: web.Request) -> web.Response:
    """``POST /auth/authorize``: email and password -> the user's keypair."""
    params = await read_params(request)
    kind = params.get("type")
    if kind != "keypair":
        raise Problem.invalid_params(f"type={kind!r}: only 'keypair' authorization is supported.")
    email, password = params.get("username"), params.get("password")
    if not isinstance(email, str) or not isinstance(password, str):
        raise Problem.invalid_params("username and password are required.")
    ctx = request.app[CONTEXT]
    user = next((u for u in ctx.users.values() if u.email == email), None)
    if user is None or not check_login(ctx.data_dir, email, password):
        raise Problem(401, "auth-failed", "Credential/signature mismatch.", msg="User credential mismatch.")
    data = {
        "access_key": user.access_key,
        "secret_key": user.secret_key,
        "role": user.role,
        "status": "active",
    }
    return web.json_response({"data": data})


async def auth_test(request: web.Request) -> web.Response:
    """``GET|POST /auth/test``: echo back, proving the signature was accepted."""
    params = await read_params(request)
    reject_unknown(params, {"echo"})
    body: dict[str, Any] = {"authorized": "yes"}
    if "echo" in params:
        body["echo"] = params["echo"]
    return web.json_response(body)


def setup_routes(app: web.Application) -> None:
    """Add the manager-level routes to ``app``."""
    app.router.add_get("/", hello)
    app.router.add_get("/manager/status", manager_status)
    app.router.add_get("/manager/announcement", announcement)
    app.router.add_post("/auth/authorize", authorize)
    app.router.add_get("/auth/test", auth_test)
    app.router.add_post("/auth/test", auth_test)
