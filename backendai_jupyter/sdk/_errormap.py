"""One translation of transport failures and error replies into the SDK's own errors.

Every path that talks to a server (requests, streams, WebSockets, SSE, the storage proxy) sends what
aiohttp raises through ``map_transport_error`` and every reply >= 400 through ``error_from_reply``, so a
failure reads the same, with the same fix, wherever it strikes.
"""

from __future__ import annotations

from collections.abc import Sequence

import aiohttp
from yarl import URL

from .errors import (
    BackendAPIError,
    BackendConnectionError,
    BackendError,
    BackendTimeoutError,
    error_from_response,
)

__all__ = [
    "BODY_ERRORS",
    "describe_call",
    "error_from_reply",
    "map_transport_error",
    "mask_tokens",
    "unreachable",
]

#: What reading a reply body can raise when the connection breaks (not e.g. ``resp.json()``'s
#: ContentTypeError, which is about the reply, not the transport).
BODY_ERRORS: tuple[type[aiohttp.ClientError], ...] = (
    aiohttp.ClientConnectionError,
    aiohttp.ClientPayloadError,
)


def describe_call(method: str, path: str) -> str:
    """How a call is named in messages: ``GET /session/x`` (``method`` as given: ``WebSocket`` too)."""
    return f"{method} /{path.lstrip('/')}"


def mask_tokens(text: str, url: URL) -> str:
    """``text`` with the values of the URL's token parameters masked (they are bearer credentials)."""
    for key, value in url.query.items():
        if "token" in key.lower() and value:
            text = text.replace(value, "***")
    return text


def _seconds(limit: float) -> str:
    return "no limit" if not limit else f"{limit:g} s"


def _timeout_error(call: str, timeout: tuple[float, float], exc: BaseException) -> BackendTimeoutError:
    connecting = isinstance(exc, aiohttp.ConnectionTimeoutError)
    limit = timeout[0] if connecting else timeout[1]
    what = "connecting" if connecting else "waiting for the server"
    return BackendTimeoutError(
        f"{call} timed out after {_seconds(limit)} {what}; raise the limit with "
        "timeout=(connect, read) on the call, APIConfig(connection_timeout=..., read_timeout=...) or "
        "BACKEND_CONNECTION_TIMEOUT / BACKEND_READ_TIMEOUT (0 = no limit)"
    )


def map_transport_error(
    exc: BaseException,
    *,
    call: str,
    timeout: tuple[float, float],
    endpoint: URL | None = None,
    storage: URL | None = None,
    reading: bool = False,
) -> BackendError:
    """The SDK error for a failure of ``call`` that left no usable reply.

    ``endpoint`` is the API endpoint tried (named on TLS failures); ``storage`` is the storage-proxy URL
    (its token is masked and the message points at the address map); ``reading`` means the reply had
    begun and broke off. A refused WebSocket upgrade is the server's answer, so it maps to its API error.
    """
    if isinstance(exc, aiohttp.WSServerHandshakeError):
        return error_from_response(exc.status, exc.message, b"", None)
    if isinstance(exc, TimeoutError):
        return _timeout_error(call, timeout, exc)
    if storage is not None:
        where = storage.with_query(None)
        detail = mask_tokens(str(exc), storage)
        if reading:
            return BackendConnectionError(
                f"{call} to the storage proxy at {where}: the reply was cut off ({detail})"
            )
        return BackendConnectionError(
            f"cannot reach the storage proxy at {where}: {detail}; if the manager advertises an address "
            "you cannot reach, map it with BACKEND_OVERRIDE_STORAGE_PROXY='orig=new'"
        )
    if isinstance(exc, aiohttp.ClientSSLError):
        return BackendConnectionError(
            f"TLS failed for {endpoint or 'the server'}: {exc}; set BACKEND_CA_BUNDLE to your CA file "
            "(or BACKEND_SKIP_SSLCERT_VALIDATION=1, insecure)"
        )
    if reading:
        return BackendConnectionError(f"{call}: the reply was cut off ({exc})")
    return BackendConnectionError(f"{call} failed: {exc}")


def unreachable(tried: Sequence[str], last: BaseException | None) -> BackendConnectionError:
    """The error after every endpoint failed to connect."""
    return BackendConnectionError(
        f"cannot connect to Backend.AI ({', '.join(tried)}): {last}; check BACKEND_ENDPOINT "
        "and that the server is running"
    )


async def error_from_reply(resp: aiohttp.ClientResponse) -> BackendAPIError:
    """Read an error reply (best effort), release it, and build its ``BackendAPIError`` subclass."""
    try:
        body = await resp.read()
    except aiohttp.ClientError:
        body = b""
    finally:
        resp.release()
    return error_from_response(
        resp.status, resp.reason or "", body, resp.headers.get("Content-Type"), headers=dict(resp.headers)
    )
