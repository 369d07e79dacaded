"""What a read reply looks like to callers: ``Response``, its ``RateLimit`` and the ``UNSET`` marker.

Kept apart from the client so that code which only inspects replies needs no aiohttp.
"""

from __future__ import annotations

import json as jsonlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

import multidict
from yarl import URL

from .errors import BackendClientError

__all__ = ["UNSET", "RateLimit", "Response"]


class _Unset:
    """The type of ``UNSET``: "no JSON body" (``json=None`` sends ``null``)."""

    def __repr__(self) -> str:
        return "UNSET"


UNSET: Final = _Unset()


def _int_header(headers: Mapping[str, str], name: str) -> int | None:
    value = headers.get(name)
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


@dataclass(frozen=True)
class RateLimit:
    """The ``X-RateLimit-*`` headers of a reply (None when absent, e.g. on errors)."""

    limit: int | None
    remaining: int | None
    window: int | None

    @classmethod
    def from_headers(cls, headers: Mapping[str, str]) -> RateLimit:
        """Read the three headers."""
        return cls(
            limit=_int_header(headers, "X-RateLimit-Limit"),
            remaining=_int_header(headers, "X-RateLimit-Remaining"),
            window=_int_header(headers, "X-RateLimit-Window"),
        )


@dataclass(frozen=True)
class Response:
    """A fully read reply with status < 400."""

    status: int
    reason: str
    headers: multidict.CIMultiDictProxy[str]
    body: bytes
    url: URL

    def json(self) -> Any:
        """The body parsed as JSON; BackendClientError if it is not JSON."""
        try:
            return jsonlib.loads(self.body)
        except (ValueError, UnicodeDecodeError) as exc:
            snippet = self.body[:80].decode("utf-8", errors="replace")
            raise BackendClientError(
                f"expected JSON from {self.url.path} (status {self.status}) but got {snippet!r}"
            ) from exc

    def text(self) -> str:
        """The body decoded as UTF-8."""
        return self.body.decode("utf-8", errors="replace")

    @property
    def rate_limit(self) -> RateLimit:
        """The rate-limit window state the server reported."""
        return RateLimit.from_headers(self.headers)
