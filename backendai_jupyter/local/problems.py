"""problem+json errors of the local endpoint, in the 23.09 manager's types and statuses.

See docs/protocol.md §8.
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from ..wire import PROBLEM_PREFIX

__all__ = ["Problem", "problem_response"]


class Problem(Exception):
    """An API error the server answers as ``application/problem+json``.

    ``kind`` is the last part of the type URI (``object-not-found``); ``title`` is the human text.
    """

    def __init__(
        self,
        status: int,
        kind: str,
        title: str,
        *,
        msg: str | None = None,
        data: Any = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(f"{status} {kind}: {title}" + (f" ({msg})" if msg else ""))
        self.status = status
        self.kind = kind
        self.title = title
        self.msg = msg
        self.data = data
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        """The problem+json document."""
        doc: dict[str, Any] = {"type": PROBLEM_PREFIX + self.kind, "title": self.title}
        if self.msg is not None:
            doc["msg"] = self.msg
        if self.data is not None:
            doc["data"] = self.data
        return doc

    # the constructors below name the common cases the way the manager does

    @classmethod
    def invalid_params(cls, msg: str, data: Any = None) -> Problem:
        """400 invalid-api-params."""
        return cls(400, "invalid-api-params", "Missing or invalid API parameters.", msg=msg, data=data)

    @classmethod
    def not_found(cls, title: str, *, msg: str | None = None) -> Problem:
        """404 object-not-found; ``title`` says what (``No such session.``)."""
        return cls(404, "object-not-found", title, msg=msg)


def problem_response(problem: Problem) -> web.Response:
    """Render a :class:`Problem` as the manager does."""
    return web.Response(
        status=problem.status,
        text=json.dumps(problem.body()),
        content_type="application/problem+json",
        headers=problem.headers,
    )
