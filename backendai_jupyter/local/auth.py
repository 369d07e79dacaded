"""The manager's request pipeline: problem+json errors, the version check, signature or cookie auth, rates.

The signature check and the rate counter are ``signing.Authenticator``; this module decides which requests
need it and records the outcome on the request.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from aiohttp import web
from aiohttp.typedefs import Middleware

from ..wire import API_VERSIONS
from .context import (
    AUTHENTICATOR,
    CONTEXT,
    REQUEST_ACCESS_KEY,
    REQUEST_RATE,
    REQUEST_USER,
    REQUEST_WEB_SESSION,
)
from .endpoint_state import User
from .problems import Problem, problem_response
from .signing import RATE_WINDOW_SECONDS, auth_problem, version_header

__all__ = ["anonymous", "make_auth_middleware", "on_response_prepare", "problem_middleware"]

log = logging.getLogger(__name__)

ANONYMOUS_RATE_LIMIT = 1000

_H = TypeVar("_H", bound=Callable[..., Awaitable[web.StreamResponse]])
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def anonymous(handler: _H) -> _H:
    """Mark a handler as callable without a signature (``GET /``, ``/auth/authorize``...)."""
    handler.backendai_anonymous = True  # type: ignore[attr-defined]
    return handler


def _is_anonymous(request: web.Request) -> bool:
    return bool(getattr(request.match_info.handler, "backendai_anonymous", False))


def _not_found(request: web.Request) -> Problem:
    return Problem(404, "url-not-found", "Unknown URL path.", data=request.path)


@web.middleware
async def problem_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Render every failure as the manager does: problem+json, never a traceback."""
    try:
        return await handler(request)
    except Problem as problem:
        return problem_response(problem)
    except web.HTTPNotFound:
        return problem_response(_not_found(request))
    except web.HTTPMethodNotAllowed:
        return problem_response(Problem(405, "method-not-allowed", "Unsupported request method."))
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        return problem_response(Problem(400, "generic-bad-request", "Bad request.", msg=exc.reason))
    except (ConnectionResetError, TimeoutError):
        raise
    except Exception:
        log.exception("unexpected error while serving %s %s", request.method, request.path)
        return problem_response(Problem(500, "internal-server-error", "Internal server error."))


def make_auth_middleware(web_session_user: Callable[[web.Request], User | None]) -> Middleware:
    """The auth middleware; ``web_session_user`` finds the cookie user of ``/func/`` requests."""

    @web.middleware
    async def auth_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        version = version_header(request)
        if version is not None and version not in API_VERSIONS:
            raise Problem(400, "generic-bad-request", "Bad request.", msg="Unsupported API version.")
        authenticator = request.app[AUTHENTICATOR]
        if getattr(request.match_info, "http_exception", None) is not None:
            return await handler(request)  # unknown URL or method: 404/405 as the manager answers
        if _is_anonymous(request):
            request[REQUEST_RATE] = (ANONYMOUS_RATE_LIMIT, ANONYMOUS_RATE_LIMIT)
            return await handler(request)
        if request.path == "/func" or request.path.startswith("/func/"):
            user = web_session_user(request)
            if user is None:
                raise auth_problem("Unauthorized access")
            request[REQUEST_WEB_SESSION] = True
        else:
            user = authenticator.verify(request, request.app[CONTEXT].users)
        remaining = authenticator.count(user.access_key)
        request[REQUEST_ACCESS_KEY] = user.access_key
        request[REQUEST_USER] = user
        request[REQUEST_RATE] = (authenticator.rate_limit, remaining)
        return await handler(request)

    return auth_middleware


async def on_response_prepare(request: web.Request, response: web.StreamResponse) -> None:
    """Headers every manager response carries (also streamed ones)."""
    response.headers["Server"] = "BackendAI"
    response.headers.setdefault("Access-Control-Allow-Origin", "*")
    rate: Any = request.get(REQUEST_RATE)
    if rate is not None and response.status < 400:
        response.headers["X-RateLimit-Limit"] = str(rate[0])
        response.headers["X-RateLimit-Remaining"] = str(rate[1])
        response.headers["X-RateLimit-Window"] = str(RATE_WINDOW_SECONDS)
