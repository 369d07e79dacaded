"""The pure half of sending a request: its URL, its body and its (signed) headers. No I/O, no session.

``AsyncClient`` calls these once per endpoint it tries, so a failover re-signs for the new host
(docs/protocol.md §2.1: the signature covers the Host header and the path exactly as sent).
"""

from __future__ import annotations

import json as jsonlib
from collections.abc import AsyncIterable, Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp
from yarl import URL

from .auth import sign_request
from .config import APIConfig
from .errors import ConfigError
from .response import _Unset

__all__ = [
    "Body",
    "Params",
    "PreparedBody",
    "build_headers",
    "build_url",
    "clean_params",
    "host_header",
    "prepare_body",
]

#: What ``data=`` accepts: bytes, a multipart form, or a stream of chunks.
Body = bytes | aiohttp.FormData | AsyncIterable[bytes]
#: Query parameters; None values are dropped and booleans become ``true``/``false``.
Params = Mapping[str, str | int | bool | None]


@dataclass(frozen=True)
class PreparedBody:
    """A body ready for aiohttp, the Content-Type to send and sign, and whether a retry may resend it."""

    payload: Any
    content_type: str | None  # None: no Content-Type header at all
    replayable: bool


def clean_params(params: Params | None) -> list[tuple[str, str]]:
    """Query pairs in the server's spelling: None dropped, booleans as ``true``/``false``."""
    if not params:
        return []
    cleaned: list[tuple[str, str]] = []
    for key, value in params.items():
        if value is None:
            continue
        if isinstance(value, bool):
            cleaned.append((key, "true" if value else "false"))
        else:
            cleaned.append((key, str(value)))
    return cleaned


def host_header(url: URL) -> str:
    """The Host to send and sign: the authority exactly as configured, without user info (§2.1)."""
    return url.raw_authority.rpartition("@")[2]


def build_url(endpoint: URL, path: str, params: Params | None, *, session_mode: bool) -> URL:
    """``endpoint`` + API ``path`` (+ ``params``); session mode routes all but ``/server/*`` via ``/func``."""
    # A leading "/" keeps yarl from reading "a:b" as a scheme; yarl quotes what needs it and keeps %XX.
    rel = URL("/" + path.lstrip("/"))
    rel_path = rel.raw_path.lstrip("/")
    if session_mode and not rel_path.startswith("server"):
        rel_path = "func/" + rel_path
    url = endpoint.with_path(endpoint.raw_path.rstrip("/") + "/" + rel_path, encoded=True)
    if rel.raw_query_string:
        url = url.with_query(rel.raw_query_string)
    extra = clean_params(params)
    return url.extend_query(extra) if extra else url


def prepare_body(
    json: Any, data: Body | None, headers: Mapping[str, str] | None, *, bodyless_type: str | None
) -> PreparedBody:
    """The payload and its Content-Type: the caller's header wins, else one that fits the payload.

    ``bodyless_type`` is sent without a body (the manager expects ``text/plain``; SSE sends none).
    Forms and streams are consumed by sending, so they are not replayable.
    """
    given = {k.lower(): v for k, v in (headers or {}).items()}.get("content-type")
    if not isinstance(json, _Unset):
        if data is not None:
            raise TypeError("request() takes json= or data=, not both")
        return PreparedBody(jsonlib.dumps(json).encode(), given or "application/json", True)
    if data is None:
        return PreparedBody(None, given or bodyless_type, True)
    if isinstance(data, (bytes, bytearray, memoryview)):
        return PreparedBody(bytes(data), given or "application/octet-stream", True)
    if isinstance(data, aiohttp.FormData):
        payload = data()
        return PreparedBody(payload, payload.content_type, False)
    return PreparedBody(data, given or "application/octet-stream", False)


def build_headers(
    config: APIConfig,
    method: str,
    url: URL,
    *,
    api_version: str,
    date: str,
    content_type: str | None,
    extra: Mapping[str, str] | None = None,
    anonymous: bool = False,
    probe: bool = False,
) -> dict[str, str]:
    """Every header of one request, signed unless it is anonymous, a probe, or in session mode.

    A probe carries no ``X-BackendAI-Version`` (the server must answer whatever we speak). The caller's
    Content-Type is ignored here: ``content_type`` (from ``prepare_body``) is the one sent and signed.
    """
    headers: dict[str, str] = {"User-Agent": config.user_agent, "X-BackendAI-Domain": config.domain}
    for key, value in (extra or {}).items():
        if key.lower() != "content-type":
            headers[key] = value
    host = host_header(url)
    headers["Host"] = host
    headers["Date"] = date
    if content_type is not None:
        headers["Content-Type"] = content_type
    if probe:
        return headers
    headers["X-BackendAI-Version"] = api_version
    if anonymous or config.endpoint_type == "session" or config.access_key == "":
        return headers
    if not config.secret_key:
        raise ConfigError(
            "an access key is configured but no secret key; set BACKEND_SECRET_KEY "
            "(or APIConfig(secret_key=...))"
        )
    headers.update(
        sign_request(
            method=method,
            path_with_query=url.raw_path_qs,
            date_header=date,
            host=host,
            content_type=content_type,
            api_version=api_version,
            access_key=config.access_key,
            secret_key=config.secret_key,
            hash_type=config.hash_type,
        )
    )
    return headers
