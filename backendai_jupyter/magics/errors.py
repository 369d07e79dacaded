"""Every mistake as a short ``UsageError``: bad input, refused requests and SDK failures, each with a next step.

::

    UsageError (IPython)          shown as one line, never a traceback
    └── BackendUsageError         raised by the %backend magics
        └── NeedsForce            a destructive action without -f: says what it would do

SDK errors are turned into one line naming the cause and the next step by :func:`from_sdk`; the
:func:`translate` context manager does that for a whole subcommand.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from IPython.core.error import UsageError

from ..sdk.errors import (
    AuthenticationError,
    BackendAPIError,
    BackendClientError,
    BackendConnectionError,
    BackendError,
    BackendTimeoutError,
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    QuotaExceededError,
    RateLimitError,
    ServerError,
    TooManySessionsMatchedError,
)

__all__ = ["BackendUsageError", "NeedsForce", "from_sdk", "one_line", "translate"]


class BackendUsageError(UsageError):
    """A %backend mistake or refusal; the message names the bad value and the fix."""


class NeedsForce(BackendUsageError):
    """A destructive action asked for without ``-f``; the message says what ``-f`` would do."""

    def __init__(self, would: str, command: str) -> None:
        super().__init__(f"this would {would}; nothing was changed. To do it, run: {command} -f")


def one_line(exc: BaseException) -> str:
    """The exception's text on one line (its class name when it has none)."""
    text = " ".join(str(exc).split())
    return text or type(exc).__name__


def _next_step(exc: BackendError) -> str:
    if isinstance(exc, AuthenticationError):
        return "check BACKEND_ACCESS_KEY / BACKEND_SECRET_KEY or run %backend login (see %backend config)"
    if isinstance(exc, PermissionDeniedError):
        return "this account may not do that; ask your admin"
    if isinstance(exc, QuotaExceededError):
        return "free resources (%backend rm unused sessions) or request fewer with -r"
    if isinstance(exc, RateLimitError):
        return "the server is busy; wait a moment and run it again"
    if isinstance(exc, TooManySessionsMatchedError):
        return "give the full session name or id (see %backend ps)"
    if isinstance(exc, NotFoundError):
        return "check the name (%backend ps, %backend vfolder list, %backend images)"
    if isinstance(exc, ConflictError):
        return "pick another name or remove the existing one first"
    if isinstance(exc, ServerError):
        return "the server failed; run it again, and check %backend logs if it keeps failing"
    if isinstance(exc, BackendTimeoutError):
        return "the server is slow or unreachable; run it again or raise BACKEND_READ_TIMEOUT"
    if isinstance(exc, BackendConnectionError):
        return "check the endpoint and your network (%backend config)"
    if isinstance(exc, BackendAPIError):
        return "check the arguments (%backend <command> --help)"
    return ""


def from_sdk(exc: BaseException, *, action: str = "") -> BackendUsageError:
    """One line for an SDK (or OS) failure: what failed, why, and what to do next."""
    what = f"{action} failed: " if action else ""
    if isinstance(exc, BackendClientError) and not isinstance(exc, BackendConnectionError | BackendTimeoutError):
        # client errors already name the bad value and its fix
        return BackendUsageError(f"{what}{one_line(exc)}")
    if isinstance(exc, BackendError):
        step = _next_step(exc)
        return BackendUsageError(f"{what}{one_line(exc)}" + (f"; {step}" if step else ""))
    if isinstance(exc, FileNotFoundError):
        return BackendUsageError(f"{what}no such file or directory: {exc.filename!r}; check the path")
    if isinstance(exc, IsADirectoryError | NotADirectoryError | PermissionError | FileExistsError):
        return BackendUsageError(f"{what}{exc.strerror}: {exc.filename!r}; check the path")
    if isinstance(exc, OSError):
        return BackendUsageError(f"{what}{one_line(exc)}; check the path and the disk")
    if isinstance(exc, EOFError):
        return BackendUsageError(f"{what}no input could be read (this frontend has no input prompt)")
    return BackendUsageError(f"{what}{one_line(exc)}")


@contextlib.contextmanager
def translate(action: str = "") -> Iterator[None]:
    """Turn SDK, OS and timeout failures inside the block into a one-line ``BackendUsageError``."""
    try:
        yield
    except UsageError:
        raise
    except (BackendError, OSError, EOFError, TimeoutError) as exc:
        raise from_sdk(exc, action=action) from None
