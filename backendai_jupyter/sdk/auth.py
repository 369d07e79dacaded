"""Pure HMAC request signing (docs/protocol.md §2.1): no I/O, no clock, no global state."""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime, timezone

from dateutil.parser import isoparse
from dateutil.parser import parse as parse_date

__all__ = [
    "authorization_header",
    "format_date",
    "sign_request",
    "signature",
    "signing_key",
    "string_to_sign",
]

OCTET_STREAM = "application/octet-stream"


def format_date(now: datetime) -> str:
    """The ``Date`` header value the SDK sends: ISO 8601 in UTC, as the official SDK does."""
    if now.tzinfo is None:
        now = now.replace(tzinfo=timezone.utc)
    return now.astimezone(timezone.utc).isoformat()


def _check_hash(hash_type: str) -> str:
    name = hash_type.lower()
    if name not in hashlib.algorithms_guaranteed or name.startswith("shake"):
        raise ValueError(f"hash_type={hash_type!r} is not supported; use e.g. 'sha256'")
    return name


def _parse_date(date_header: str) -> datetime:
    try:
        return isoparse(date_header)
    except ValueError:
        try:
            return parse_date(date_header)
        except (ValueError, OverflowError) as exc:
            raise ValueError(f"Date header {date_header!r} is not a date") from exc


def _bare_mime(content_type: str | None) -> str:
    if not content_type:
        return OCTET_STREAM
    return content_type.split(";", 1)[0].strip().lower()


def string_to_sign(
    *,
    method: str,
    path_with_query: str,
    date_header: str,
    host: str,
    content_type: str | None,
    api_version: str,
    hash_type: str = "sha256",
) -> str:
    """The newline-joined string the signature covers (the body is not hashed since v4.20181215)."""
    name = _check_hash(hash_type)
    empty_body_hash = hashlib.new(name, b"").hexdigest()
    return "\n".join(
        (
            method.upper(),
            path_with_query,
            date_header,
            f"host:{host}",
            f"content-type:{_bare_mime(content_type)}",
            f"x-backendai-version:{api_version}",
            empty_body_hash,
        )
    )


def signing_key(*, secret_key: str, date_header: str, host: str, hash_type: str = "sha256") -> bytes:
    """The per-day, per-host key: HMAC(HMAC(secret, yyyymmdd), host)."""
    name = _check_hash(hash_type)
    day = _parse_date(date_header).strftime("%Y%m%d")
    k1 = hmac.new(secret_key.encode(), day.encode(), name).digest()
    return hmac.new(k1, host.encode(), name).digest()


def signature(
    *,
    method: str,
    path_with_query: str,
    date_header: str,
    host: str,
    content_type: str | None,
    api_version: str,
    secret_key: str,
    hash_type: str = "sha256",
) -> str:
    """Hex HMAC signature of one request."""
    key = signing_key(secret_key=secret_key, date_header=date_header, host=host, hash_type=hash_type)
    text = string_to_sign(
        method=method,
        path_with_query=path_with_query,
        date_header=date_header,
        host=host,
        content_type=content_type,
        api_version=api_version,
        hash_type=hash_type,
    )
    return hmac.new(key, text.encode(), _check_hash(hash_type)).hexdigest()


def authorization_header(*, access_key: str, signature: str, hash_type: str = "sha256") -> str:
    """``BackendAI signMethod=HMAC-SHA256, credential=<AK>:<signature>``."""
    return f"BackendAI signMethod=HMAC-{hash_type.upper()}, credential={access_key}:{signature}"


def sign_request(
    *,
    method: str,
    path_with_query: str,
    date_header: str,
    host: str,
    content_type: str | None,
    api_version: str,
    access_key: str,
    secret_key: str,
    hash_type: str = "sha256",
) -> dict[str, str]:
    """Every signed header of one request: Date, X-BackendAI-Version, Content-Type (if any), Authorization.

    ``content_type=None`` means the request carries no Content-Type (WebSocket, SSE): the signature then
    covers ``application/octet-stream``. ``host`` and ``path_with_query`` must be exactly what is sent.
    """
    sig = signature(
        method=method,
        path_with_query=path_with_query,
        date_header=date_header,
        host=host,
        content_type=content_type,
        api_version=api_version,
        secret_key=secret_key,
        hash_type=hash_type,
    )
    headers = {"Date": date_header, "X-BackendAI-Version": api_version}
    if content_type is not None:
        headers["Content-Type"] = content_type
    headers["Authorization"] = authorization_header(access_key=access_key, signature=sig, hash_type=hash_type)
    return headers
