"""Signed, expiring storage-proxy tokens (HS256 JWT), as the manager hands them out and the proxy checks them.

Clients treat the token as opaque; only this endpoint issues and reads it. Errors never echo the token.
"""

from __future__ import annotations

import re
import secrets
import time
from dataclasses import dataclass
from typing import Any, Final, Literal

import jwt

from .endpoint_state import LocalContext
from .problems import Problem

__all__ = [
    "TOKEN_LIFETIME",
    "StorageToken",
    "ensure_token_secret",
    "issue_download_token",
    "issue_upload_token",
    "read_token",
    "storage_problem",
]

#: Seconds a token stays valid: the storage proxy's default ``session-expire`` (1 day).
TOKEN_LIFETIME: Final = 86400.0
_ALGORITHM: Final = "HS256"
_HEX_ID: Final = re.compile(r"[0-9a-f]{32}")

Operation = Literal["upload", "download"]


@dataclass(frozen=True)
class StorageToken:
    """The claims of a verified token."""

    op: Operation
    vfid: str
    relpath: str
    size: int = 0
    session: str = ""
    archive: bool = False


def storage_problem(
    status: int, kind: str, title: str, *, msg: str | None = None, data: Any = None
) -> Problem:
    """A problem with the storage proxy's type URI (``.../probs/storage/<kind>``)."""
    return Problem(status, f"storage/{kind}", title, msg=msg, data=data)


def _invalid_token(why: str) -> Problem:
    return storage_problem(400, "invalid-api-params", "Invalid API parameters", data={"token": why})


def ensure_token_secret(ctx: LocalContext) -> bytes:
    """The context's signing secret; a random one is made if the manager side has not set it yet."""
    if not ctx.token_secret:
        ctx.token_secret = secrets.token_bytes(32)
    return ctx.token_secret


def _encode(secret: bytes, claims: dict[str, Any], *, lifetime: float, now: float | None) -> str:
    if not secret:
        raise ValueError("The token secret is empty: call ensure_token_secret(ctx) first.")
    issued = time.time() if now is None else now
    return jwt.encode({**claims, "exp": int(issued + lifetime)}, secret, algorithm=_ALGORITHM)


def issue_upload_token(
    secret: bytes,
    *,
    vfid: str,
    relpath: str,
    size: int,
    session: str,
    lifetime: float = TOKEN_LIFETIME,
    now: float | None = None,
) -> str:
    """A token for the tus upload of ``size`` bytes to ``relpath`` in vfolder ``vfid``."""
    claims = {"op": "upload", "vfid": vfid, "relpath": relpath, "size": size, "session": session}
    return _encode(secret, claims, lifetime=lifetime, now=now)


def issue_download_token(
    secret: bytes,
    *,
    vfid: str,
    relpath: str,
    archive: bool = False,
    lifetime: float = TOKEN_LIFETIME,
    now: float | None = None,
) -> str:
    """A token for downloading ``relpath`` of vfolder ``vfid``."""
    claims = {"op": "download", "vfid": vfid, "relpath": relpath, "archive": archive}
    return _encode(secret, claims, lifetime=lifetime, now=now)


def read_token(secret: bytes, token: str, *, op: Operation) -> StorageToken:
    """Verify ``token`` for ``op``; 400 ``.../probs/storage/invalid-api-params`` if it is bad or expired."""
    required = ["exp", "op", "vfid", "relpath", *(["size", "session"] if op == "upload" else [])]
    try:
        claims = jwt.decode(token, secret, algorithms=[_ALGORITHM], options={"require": required})
    except jwt.ExpiredSignatureError as exc:
        raise _invalid_token(f"the token has expired; request a new one with request-{op}.") from exc
    except jwt.PyJWTError as exc:
        why = f"the token is not valid ({exc.__class__.__name__}); use the token the manager gave."
        raise _invalid_token(why) from exc
    if claims["op"] != op:
        raise _invalid_token(f"this is a {claims['op']!r} token; the {op} endpoint needs a {op!r} token.")
    vfid, relpath = claims["vfid"], claims["relpath"]
    size, session, archive = claims.get("size", 0), claims.get("session", ""), claims.get("archive", False)
    # a token is only ever made by this endpoint, but a claim is checked before it becomes part of a path
    if (
        not isinstance(vfid, str)
        or not _HEX_ID.fullmatch(vfid)
        or not isinstance(relpath, str)
        or not isinstance(size, int)
        or size < 0
        or not isinstance(session, str)
        or (op == "upload" and not _HEX_ID.fullmatch(session))
        or not isinstance(archive, bool)
    ):
        raise _invalid_token("the token's claims are malformed; use the token the manager gave.")
    return StorageToken(op=op, vfid=vfid, relpath=relpath, size=size, session=session, archive=archive)
