"""The SDK's exception tree and the status/type table that maps server replies onto it.

::

    BackendError                          anything this SDK raises on purpose
    ├── BackendAPIError(status, reason, data)   the server answered >= 400 (problem+json in ``data``)
    │   ├── BadRequestError               400
    │   │   ├── InvalidParametersError    400 invalid-api-params
    │   │   ├── InvalidAuthParamsError    400 invalid-auth-params (e.g. clock skew > 15 min)
    │   │   └── ConflictError             400 session-already-exists / vfolder-already-exists, 409
    │   ├── AuthenticationError           401 (auth-failed, password-expired)
    │   │   └── OTPRequiredError          session-mode login needs a one-time password
    │   ├── PermissionDeniedError         403
    │   ├── NotFoundError                 404 and every historic not-found type
    │   │   └── TooManySessionsMatchedError  404 too-many-sessions-matched (a name is ambiguous)
    │   ├── QuotaExceededError            412
    │   ├── RateLimitError                429
    │   └── ServerError                   5xx
    └── BackendClientError                the client could not do its part
        ├── ConfigError                   a setting is missing or malformed
        ├── BackendConnectionError        no endpoint could be reached
        └── BackendTimeoutError           a connect or read timeout expired

``BackendError``, ``BackendAPIError`` and ``BackendClientError`` keep the official SDK's names and signatures.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from ..wire import PROBLEM_PREFIX

__all__ = [
    "AuthenticationError",
    "BackendAPIError",
    "BackendClientError",
    "BackendConnectionError",
    "BackendError",
    "BackendTimeoutError",
    "BadRequestError",
    "ConfigError",
    "ConflictError",
    "InvalidAuthParamsError",
    "InvalidParametersError",
    "NotFoundError",
    "OTPRequiredError",
    "PermissionDeniedError",
    "QuotaExceededError",
    "RateLimitError",
    "ServerError",
    "TooManySessionsMatchedError",
    "error_from_response",
    "short_type",
]

GENERIC_ERROR_TYPE = PROBLEM_PREFIX + "generic-error"
_MAX_SNIPPET = 200


class BackendError(Exception):
    """Base of every error the SDK raises on purpose."""


class BackendClientError(BackendError):
    """The client could not do its part (configuration, network, timeout, a malformed reply)."""


class ConfigError(BackendClientError):
    """A setting is missing or malformed; the message names the setting and the fix."""


class BackendConnectionError(BackendClientError):
    """No configured endpoint could be reached."""


class BackendTimeoutError(BackendClientError):
    """A connect or read timeout expired; the message says which and how to raise it."""


class BackendAPIError(BackendError):
    """The server answered with an error status; ``data`` is its problem+json body."""

    def __init__(
        self,
        status: int,
        reason: str,
        data: Mapping[str, Any],
        *,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(status, reason, data)
        self._status = status
        self._reason = reason
        self._data = dict(data)
        self._headers = dict(headers or {})

    @property
    def status(self) -> int:
        """The HTTP status code."""
        return self._status

    @property
    def reason(self) -> str:
        """The HTTP reason phrase."""
        return self._reason

    @property
    def data(self) -> dict[str, Any]:
        """The problem+json body (or ``{"type": ".../generic-error", "title", "content"}``)."""
        return self._data

    @property
    def headers(self) -> dict[str, str]:
        """Response headers (e.g. ``Retry-After``), if the caller passed them."""
        return self._headers

    @property
    def type(self) -> str:
        """The problem type URI; compare on this, titles may change."""
        value = self._data.get("type")
        return value if isinstance(value, str) else GENERIC_ERROR_TYPE

    @property
    def title(self) -> str:
        """The human-readable problem title."""
        value = self._data.get("title")
        return value if isinstance(value, str) and value else self._reason

    @property
    def msg(self) -> str | None:
        """The optional extra message (``msg``, or ``details`` from the web server)."""
        for key in ("msg", "details"):
            value = self._data.get(key)
            if isinstance(value, str) and value:
                return value
        return None

    def __str__(self) -> str:
        parts = [f"{self._status} {self._reason}: {self.title}"]
        if self.msg and self.msg != self.title:
            parts.append(f"- {self.msg}")
        content = self._data.get("content")
        if isinstance(content, str) and content.strip() and content.strip() != self.title:
            parts.append(f"- {content.strip()[:_MAX_SNIPPET]}")
        parts.append(f"({short_type(self.type)})")
        return " ".join(" ".join(parts).split())

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._status!r}, {self._reason!r}, {self._data!r})"


class BadRequestError(BackendAPIError):
    """400: the request was malformed or refused."""


class InvalidParametersError(BadRequestError):
    """400 invalid-api-params: a field is missing, unknown or malformed (see ``data``)."""


class InvalidAuthParamsError(BadRequestError):
    """400 invalid-auth-params: a malformed Authorization header or a clock more than 15 min off."""


class ConflictError(BadRequestError):
    """A session or vfolder with that name already exists (400 on the wire, or 409)."""


class AuthenticationError(BackendAPIError):
    """401: unknown key, bad signature, expired password, or not logged in."""


class OTPRequiredError(AuthenticationError):
    """Session-mode login needs a one-time password and no ``otp_prompt`` was given."""


class PermissionDeniedError(BackendAPIError):
    """403: the keypair may not do this."""


class NotFoundError(BackendAPIError):
    """404 or any historic not-found type (session, kernel, vfolder, image, group, ...)."""


class TooManySessionsMatchedError(NotFoundError):
    """404 too-many-sessions-matched: a session name matches several sessions; use its UUID."""

    @property
    def matches(self) -> list[dict[str, Any]]:
        """The candidate sessions (``data.matches``)."""
        inner = self.data.get("data")
        found = inner.get("matches") if isinstance(inner, Mapping) else None
        return [dict(m) for m in found if isinstance(m, Mapping)] if isinstance(found, list) else []


class QuotaExceededError(BackendAPIError):
    """412: a resource policy limit was exceeded."""


class RateLimitError(BackendAPIError):
    """429: too many requests in the rate-limit window."""


class ServerError(BackendAPIError):
    """5xx: the manager, agent or storage proxy failed."""


_NOT_FOUND_TYPES = frozenset(
    {
        "kernel-not-found",
        "session-not-found",
        "vfolder-not-found",
        "image-not-found",
        "group-not-found",
        "app-not-found",
        "generic-not-found",
        "task-template-not-found",
        "domain-not-found",
        "object-not-found",
        "url-not-found",
        "file-not-found",
        "too-many-kernels",
        "too-many-vfolders",
        "no-such-upload-session",
    }
)

#: Problem type (last path segment) -> class; consulted for 4xx replies before the status table.
_TYPE_TABLE: dict[str, type[BackendAPIError]] = {
    "invalid-api-params": InvalidParametersError,
    "invalid-auth-params": InvalidAuthParamsError,
    "session-already-exists": ConflictError,
    "vfolder-already-exists": ConflictError,
    "auth-failed": AuthenticationError,
    "password-expired": AuthenticationError,
    "too-many-sessions-matched": TooManySessionsMatchedError,
    "quota-exceeded": QuotaExceededError,
    "rate-limit-exceeded": RateLimitError,
    "too-many-requests": RateLimitError,
    **dict.fromkeys(_NOT_FOUND_TYPES, NotFoundError),
}

_STATUS_TABLE: dict[int, type[BackendAPIError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    412: QuotaExceededError,
    429: RateLimitError,
}


def short_type(type_uri: str) -> str:
    """``https://api.backend.ai/probs/object-not-found`` -> ``object-not-found``."""
    if type_uri.startswith(PROBLEM_PREFIX):
        return type_uri[len(PROBLEM_PREFIX) :]
    return type_uri.rstrip("/").rsplit("/", 1)[-1]


def error_class_for(status: int, type_uri: str | None) -> type[BackendAPIError]:
    """Pick the exception class for a status and problem type (the one table)."""
    if status >= 500:
        return ServerError
    if type_uri:
        found = _TYPE_TABLE.get(short_type(type_uri).rsplit("/", 1)[-1])
        if found is not None:
            return found
    return _STATUS_TABLE.get(status, BackendAPIError)


def error_from_response(
    status: int,
    reason: str,
    body: bytes,
    content_type: str | None,
    *,
    headers: Mapping[str, str] | None = None,
) -> BackendAPIError:
    """Build the right ``BackendAPIError`` subclass from an error reply."""
    data: dict[str, Any] | None = None
    mime = (content_type or "").split(";", 1)[0].strip().lower()
    if body and (mime.endswith("json") or body[:1] == b"{"):
        try:
            parsed = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            parsed = None
        if isinstance(parsed, dict):
            data = parsed
    if data is None:
        data = {
            "type": GENERIC_ERROR_TYPE,
            "title": reason,
            "content": body.decode("utf-8", errors="replace"),
        }
    type_uri = data.get("type")
    cls = error_class_for(status, type_uri if isinstance(type_uri, str) else None)
    return cls(status, reason, data, headers=headers)
