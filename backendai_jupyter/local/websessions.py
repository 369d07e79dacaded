"""Logged-in web-server sessions of the local endpoint (in memory) and the login-failure counter."""

from __future__ import annotations

import secrets
import time
from collections import deque

__all__ = ["COOKIE_MAX_AGE", "WebSessions"]

COOKIE_MAX_AGE = 7 * 24 * 3600
LOGIN_FAILURE_LIMIT = 10
LOGIN_FAILURE_WINDOW = 20 * 60


class WebSessions:
    """Logged-in browser/CLI sessions (in memory) and the login-failure counter."""

    def __init__(self) -> None:
        self._by_id: dict[str, tuple[str, float]] = {}  # session id -> (access key, expiry)
        self._failures: dict[str, deque[float]] = {}

    def open(self, access_key: str) -> str:
        """A new session id for ``access_key``."""
        session_id = secrets.token_urlsafe(32)
        self._by_id[session_id] = (access_key, time.time() + COOKIE_MAX_AGE)
        return session_id

    def close(self, session_id: str | None) -> None:
        """Forget a session id."""
        if session_id:
            self._by_id.pop(session_id, None)

    def access_key_of(self, session_id: str | None) -> str | None:
        """The access key logged in under ``session_id``, if it is valid."""
        entry = self._by_id.get(session_id or "")
        if entry is None or entry[1] < time.time():
            return None
        return entry[0]

    def note_failure(self, username: str) -> None:
        """Count one failed login."""
        self._failures.setdefault(username, deque()).append(time.time())

    def locked(self, username: str) -> bool:
        """Whether ``username`` failed more than the limit within the window."""
        hits = self._failures.get(username)
        if not hits:
            return False
        while hits and hits[0] < time.time() - LOGIN_FAILURE_WINDOW:
            hits.popleft()
        return len(hits) > LOGIN_FAILURE_LIMIT
