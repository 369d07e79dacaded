"""API version parsing, negotiation, and the version-dependent paths and fields (docs/protocol.md §3)."""

from __future__ import annotations

import re
from collections.abc import Mapping

__all__ = [
    "Version",
    "VersionLike",
    "cluster_in_config",
    "events_path_and_params",
    "format_version",
    "gql_path",
    "image_field",
    "name_field",
    "negotiate",
    "parse_version",
    "session_download_method",
    "session_prefix",
    "stream_prefix",
    "uses_storage_proxy",
]

Version = tuple[int, str]
VersionLike = str | Version

_VERSION_RE = re.compile(r"^v(\d+)\.(\d{8})$")


def parse_version(value: str) -> Version:
    """``"v7.20230615"`` -> ``(7, "20230615")``; ValueError naming the value otherwise."""
    match = _VERSION_RE.match(value.strip())
    if match is None:
        raise ValueError(f"API version {value!r} is not of the form vMAJOR.YYYYMMDD, e.g. 'v8.20240315'")
    return int(match.group(1)), match.group(2)


def format_version(version: Version) -> str:
    """``(7, "20230615")`` -> ``"v7.20230615"``."""
    return f"v{version[0]}.{version[1]}"


def _v(version: VersionLike) -> Version:
    return parse_version(version) if isinstance(version, str) else version


def negotiate(server: VersionLike, client: VersionLike) -> str:
    """The version both sides speak: min(server, client)."""
    return format_version(min(_v(server), _v(client)))


def session_prefix(version: VersionLike) -> str:
    """``/kernel`` for v4 servers, ``/session`` from v5."""
    return "/kernel" if _v(version)[0] <= 4 else "/session"


def stream_prefix(version: VersionLike) -> str:
    """``/stream/kernel`` for v4, ``/stream/session`` from v5 (WebSocket execute, apps)."""
    return "/stream/kernel" if _v(version)[0] <= 4 else "/stream/session"


def name_field(version: VersionLike) -> str:
    """The session-name field of create: ``clientSessionToken`` for v4, ``name`` from v5."""
    return "clientSessionToken" if _v(version)[0] <= 4 else "name"


def image_field(version: VersionLike) -> str:
    """The image field of create: ``lang`` up to v4.20181215, ``image`` after."""
    return "lang" if _v(version) <= (4, "20181215") else "image"


def cluster_in_config(version: VersionLike) -> bool:
    """Whether ``clusterSize`` goes inside ``config`` (before v6.20200815) rather than at the top level."""
    return _v(version) < (6, "20200815")


def gql_path(version: VersionLike) -> str:
    """``/admin/gql`` from v6.20210815, ``/admin/graphql`` before."""
    return "/admin/gql" if _v(version) >= (6, "20210815") else "/admin/graphql"


def uses_storage_proxy(version: VersionLike) -> bool:
    """Whether vfolder transfers go through request-upload/request-download and the storage proxy."""
    return _v(version) >= (6, "20200815")


def session_download_method(version: VersionLike, manager_version: str | None = None) -> str:
    """HTTP method for session file download: POST on v8.20240915+ and on 24.03.8+ backports, else GET.

    Servers in between may still answer 405; callers should retry with GET then.
    """
    v = _v(version)
    if v >= (8, "20240915"):
        return "POST"
    if v >= (8, "20240315") and manager_version and _manager_tuple(manager_version) >= (24, 3, 8):
        return "POST"
    return "GET"


def _manager_tuple(value: str) -> tuple[int, ...]:
    numbers = re.findall(r"\d+", value)[:3]
    return tuple(int(n) for n in numbers)


def events_path_and_params(
    version: VersionLike,
    *,
    session_id: str | None = None,
    session_name: str | None = None,
    owner_access_key: str | None = None,
    group: str | None = None,
    scope: str | None = None,
) -> tuple[str, Mapping[str, str]]:
    """Path and query for the session lifecycle SSE stream of this API version."""
    v = _v(version)
    params: dict[str, str] = {}
    if v[0] <= 4:
        # v4 identifies sessions by their client token (the name) under the sessionId key.
        params["sessionId"] = session_name or session_id or "*"
        if owner_access_key:
            params["ownerAccessKey"] = owner_access_key
        return "/stream/kernel/_/events", params
    if v[0] == 5:
        params["name"] = session_name or session_id or "*"
    elif session_id:
        params["sessionId"] = session_id
    else:
        params["sessionName"] = session_name or "*"
    if owner_access_key:
        params["ownerAccessKey"] = owner_access_key
    if group:
        params["group"] = group
    if scope and v[0] >= 6:
        params["scope"] = scope
    return "/events/session", params
