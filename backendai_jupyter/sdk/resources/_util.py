"""Small helpers shared by the resource modules: paths, version checks, file names, GraphQL."""

from __future__ import annotations

import posixpath
import re
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from ...wire import PROBLEM_PREFIX
from .. import versioning
from ..errors import BackendClientError, BadRequestError

if TYPE_CHECKING:
    from ..client import AsyncClient

__all__ = [
    "Sleep",
    "gql",
    "quote_segment",
    "relative_name",
    "safe_relpath",
    "session_path",
]

Sleep = Callable[[float], Awaitable[None]]

_UNSAFE_PART = re.compile(r"^\.\.?$")


def quote_segment(value: str) -> str:
    """Percent-encode one path segment (a session or vfolder name)."""
    if not value:
        raise BackendClientError("an empty name was given where a session or vfolder name is required")
    return quote(value, safe="")


async def session_path(client: AsyncClient, ref: str, *tail: str) -> str:
    """``/session/<ref>[/tail...]`` (``/kernel`` on v4), negotiating the version first."""
    await client.negotiate()
    parts = [versioning.session_prefix(client.api_version_tuple), quote_segment(ref), *tail]
    return "/".join(p.strip("/") if i else p.rstrip("/") for i, p in enumerate(parts))


def safe_relpath(value: str, *, what: str) -> str:
    """A normalised relative POSIX path with no ``..`` or absolute part; BackendClientError otherwise."""
    cleaned = value.replace("\\", "/")
    parts = [p for p in cleaned.split("/") if p not in ("", ".")]
    if cleaned.startswith("/") or any(_UNSAFE_PART.match(p) for p in parts) or not parts:
        raise BackendClientError(
            f"{what} {value!r} is not a relative path inside the folder; "
            "give a path like 'data/file.csv' without '..' or a leading '/'"
        )
    return posixpath.join(*parts)


def relative_name(local: Path, basedir: Path | None) -> str:
    """The remote name of a local file: relative to ``basedir`` when given, else its base name."""
    if basedir is None:
        return local.name
    try:
        rel = local.resolve().relative_to(basedir.resolve())
    except ValueError:
        raise BackendClientError(
            f"file {str(local)!r} is not inside basedir {str(basedir)!r}; "
            "pass a basedir that contains every file, or no basedir"
        ) from None
    return safe_relpath(PurePosixPath(*rel.parts).as_posix(), what="file")


async def gql(client: AsyncClient, query: str, variables: Mapping[str, Any] | None = None) -> Any:
    """Run a GraphQL query and return its ``data`` (the reply shape differs before v6.20210815)."""
    await client.negotiate()
    body: dict[str, Any] = {"query": query}
    if variables:
        body["variables"] = dict(variables)
    resp = await client.request(
        "POST", versioning.gql_path(client.api_version_tuple), json=body, idempotent=True
    )
    payload = resp.json()
    if isinstance(payload, Mapping) and ("data" in payload or "errors" in payload):
        errors = payload.get("errors")
        if errors:
            # the legacy endpoint answers 400 graphql-error; raise the same class for both forms
            raise BadRequestError(
                400,
                "Bad Request",
                {
                    "type": PROBLEM_PREFIX + "graphql-error",
                    "title": "GraphQL query failed.",
                    "msg": "; ".join(_gql_messages(errors)),
                    "data": errors,
                },
            )
        return payload.get("data")
    return payload


def _gql_messages(errors: Any) -> list[str]:
    if not isinstance(errors, list):
        return [str(errors)]
    return [str(e.get("message", e)) if isinstance(e, Mapping) else str(e) for e in errors]
