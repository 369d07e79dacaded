"""HMAC keypair signatures of manager requests and the per-access-key rate limit.

Signature verification follows docs/protocol.md §2.1: the signing key is ``HMAC(HMAC(secret, yyyymmdd),
host)`` and the string to sign is method, raw path with query, raw date, ``host:``, ``content-type:``,
``x-backendai-version:`` and the hash of the empty body, joined by newlines. Dates must lie strictly within
15 minutes of the server clock.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections import deque
from collections.abc import Callable
from datetime import datetime, timedelta, timezone

from aiohttp import web
from dateutil import parser as dateparser

from .endpoint_state import User
from .problems import Problem

__all__ = ["RATE_WINDOW_SECONDS", "Authenticator", "auth_problem", "sign_string", "version_header"]

DATE_WINDOW = timedelta(minutes=15)
RATE_WINDOW_SECONDS = 900


def version_header(request: web.Request) -> str | None:
    """The client's API version header (``X-BackendAI-Version``, or v4's ``X-Sorna-Version``)."""
    return request.headers.get("X-BackendAI-Version") or request.headers.get("X-Sorna-Version")


def auth_problem(msg: str) -> Problem:
    """401 auth-failed, as the manager answers a missing or wrong credential."""
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
    """The hex HMAC signature a client must send for these request parts (docs/protocol.md §2.1)."""
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
            raise auth_problem("Unauthorized access")
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
            raise auth_problem("Access key not found")
        content_type = request.headers.get("Content-Type", "application/octet-stream")
        expected = sign_string(
            user.secret_key,
            method=request.method,
            raw_path=request.raw_path,
            date_raw=date_raw,
            date=date,
            host=request.headers.get("Host", ""),
            content_type=content_type.split(";", 1)[0].strip().lower(),
            version=version_header(request) or "",
            hash_name=hash_name,
        )
        if not hmac.compare_digest(expected, signature):
            raise auth_problem("Signature mismatch")
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
