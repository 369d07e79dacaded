"""The manager's request pipeline: problem+json errors, version header check, HMAC keypair auth, rate limits.

Signature verification follows protocol.md §2.1: the signing key is ``HMAC(HMAC(secret, yyyymmdd), host)`` and
the string to sign is method, raw path with query, raw date, ``host:``, ``content-type:``, ``x-backendai-
version:`` and the hash of the empty body, joined by newlines. Dates must lie strictly within 15 minutes of
the server clock.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta, timezone
from typing import Any, TypeVar

from aiohttp import web
from aiohttp.typedefs import Middleware
from dateutil import parser as dateparser

from ..wire import API_VERSIONS
from .context import CONTEXT, REQUEST_ACCESS_KEY, REQUEST_USER, User
from .problems import Problem, problem_response

__all__ = [
    "AUTHENTICATOR",
    "Authenticator",
    "anonymous",
    "make_auth_middleware",
    "on_response_prepare",
    "problem_middleware",
    "sign_string",
]

log = logging.getLogger(__name__)

DATE_WINDOW = timedelta(minutes=15)
RATE_WINDOW_SECONDS = 900
ANONYMOUS_RATE_LIMIT = 1000
#: request key holding ``(limit, remaining)`` for the X-RateLimit-* headers
REQUEST_RATE = web.RequestKey("backendai_rate", tuple[int, int])
#: request key set when the caller was authenticated by a web-server session cookie instead of a signature
REQUEST_WEB_SESSION = web.RequestKey("backendai_web_session", bool)

_H = TypeVar("_H", bound=Callable[..., Awaitable[web.StreamResponse]])
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def anonymous(handler: _H) -> _H:
    """Mark a handler as callable without a signature (``GET /``, ``/auth/authorize``...)."""
    handler.backendai_anonymous = True  # type: ignore[attr-defined]
    return handler


def _is_anonymous(request: web.Request) -> bool:
    return bool(getattr(request.match_info.handler, "backendai_anonymous", False))


def _auth_problem(msg: str) -> Problem:
    return Problem(401, "auth-failed", "Credential/signature mismatch.", msg=msg)


def _auth_params_problem(msg: str) -> Problem:
    return Problem(400, "invalid-auth-params", "Missing or invalid authorization parameters.", msg=msg)


def sign_string(
    secret_key: str,
    *,
    method: str,
    raw_path: str,
    date_raw: str,
    date: datetime,
    host: str,
    content_type: str,
    version: str,
    hash_name: str = "sha256",
) -> str:
    """The hex HMAC signature a client must send for these request parts (protocol.md §2.1)."""
    body_hash = hashlib.new(hash_name, b"").hexdigest()
    to_sign = "\n".join(
        (
            method.upper(),
            raw_path,
            date_raw,
            f"host:{host}",
            f"content-type:{content_type}",
            f"x-backendai-version:{version}",
            body_hash,
        )
    ).encode()
    k1 = hmac.new(secret_key.encode(), date.strftime("%Y%m%d").encode(), hash_name).digest()
    key = hmac.new(k1, host.encode(), hash_name).digest()
    return hmac.new(key, to_sign, hash_name).hexdigest()


class Authenticator:
    """Verifies signed requests against the known keypairs and counts requests per access key."""

    def __init__(self, *, rate_limit: int, clock: Callable[[], float] = time.time) -> None:
        self.rate_limit = rate_limit
        self.clock = clock
        self._hits: dict[str, deque[float]] = {}

    def _parse_date(self, request: web.Request) -> tuple[str, datetime]:
        raw = (
            request.headers.get("Date")
            or request.headers.get("X-BackendAI-Date")
            or request.headers.get("X-Sorna-Date")
        )
        if not raw:
            raise _auth_params_problem("Date/time sync error")
        try:
            date = dateparser.parse(raw)
        except (ValueError, OverflowError) as exc:
            raise _auth_params_problem("Date/time sync error") from exc
        aware = date if date.tzinfo is not None else date.replace(tzinfo=timezone.utc)
        now = datetime.fromtimestamp(self.clock(), timezone.utc)
        if not (now - DATE_WINDOW < aware < now + DATE_WINDOW):
            raise _auth_params_problem("Date/time sync error")
        return raw, date

    def verify(self, request: web.Request, users: dict[str, User]) -> User:
        """The :class:`User` whose keypair signed ``request``; raises :class:`Problem` otherwise."""
        date_raw, date = self._parse_date(request)
        header = request.headers.get("Authorization")
        if not header:
            raise _auth_problem("Unauthorized access")
        auth_type, _, rest = header.partition(" ")
        if auth_type not in ("BackendAI", "Sorna"):
            raise _auth_params_problem("Invalid authorization type name")
        params: dict[str, str] = {}
        for part in rest.split(","):
            key, sep, value = part.strip().partition("=")
            if sep:
                params[key.strip()] = value.strip()
        sign_method, credential = params.get("signMethod", ""), params.get("credential", "")
        access_key, sep, signature = credential.partition(":")
        if not sign_method or not sep or not access_key or not signature:
            raise _auth_params_problem("Missing or malformed authorization parameters")
        mac, _, hash_name = sign_method.partition("-")
        hash_name = hash_name.lower()
        if mac.upper() != "HMAC" or hash_name not in hashlib.algorithms_guaranteed:
            raise _auth_params_problem(f"Unsupported authorization method: {sign_method!r}")
        user = users.get(access_key)
        if user is None:
            raise _auth_problem("Access key not found")
        content_type = request.headers.get("Content-Type", "application/octet-stream")
        expected = sign_string(
            user.secret_key,
            method=request.method,
            raw_path=request.raw_path,
            date_raw=date_raw,
            date=date,
            host=request.headers.get("Host", ""),
            content_type=content_type.split(";", 1)[0].strip().lower(),
            version=_version_header(request) or "",
            hash_name=hash_name,
        )
        if not hmac.compare_digest(expected, signature):
            raise _auth_problem("Signature mismatch")
        return user

    def count(self, access_key: str) -> int:
        """Record one request of ``access_key``; return how many remain in the window (429 when none)."""
        now = self.clock()
        hits = self._hits.setdefault(access_key, deque())
        while hits and hits[0] <= now - RATE_WINDOW_SECONDS:
            hits.popleft()
        if len(hits) >= self.rate_limit:
            raise Problem(429, "rate-limit-exceeded", "Rate limit exceeded.")
        hits.append(now)
        return self.rate_limit - len(hits)


AUTHENTICATOR = web.AppKey("backendai_authenticator", Authenticator)


def _version_header(request: web.Request) -> str | None:
    return request.headers.get("X-BackendAI-Version") or request.headers.get("X-Sorna-Version")


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
        version = _version_header(request)
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
                raise _auth_problem("Unauthorized access")
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
