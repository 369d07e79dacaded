"""Every mistake as a short ``UsageError``: bad input, refusals and SDK failures, each with a next step.

Every error the magics raise is a plain IPython ``UsageError``: IPython shows exactly that class (not its
subclasses) as one line without a traceback. :func:`usage_error` makes one, :func:`needs_force` the one for
a destructive action without ``-f`` (it says what ``-f`` would do). :func:`from_sdk` turns an SDK error
into one line naming the cause and the next step; :func:`translate` does that for a whole block.
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

__all__ = ["Interrupt", "from_sdk", "interrupted", "needs_force", "one_line", "translate", "usage_error"]


def usage_error(message: str) -> UsageError:
    """A %backend mistake or refusal; the message names the bad value and the fix."""
    return UsageError(message)


def needs_force(would: str, command: str) -> UsageError:
    """A destructive action asked for without ``-f``: what it would do, and the command that does it."""
    return UsageError(f"this would {would}; nothing was changed. To do it, run: {command} -f")


class Interrupt(KeyboardInterrupt):
    """A command the user interrupted: a ``KeyboardInterrupt`` shown as one line, not our traceback."""

    def _render_traceback_(self) -> list[str]:
        return [f"KeyboardInterrupt: {self}"]


# named as Python names it: the error output and the execute reply say KeyboardInterrupt
Interrupt.__name__ = Interrupt.__qualname__ = "KeyboardInterrupt"


def interrupted(what: str) -> Interrupt:
    """The interrupt that ends ``what`` (e.g. ``%backend events``)."""
    return Interrupt(f"{what} was interrupted")


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


def from_sdk(exc: BaseException, *, action: str = "") -> UsageError:
    """One line for an SDK (or OS) failure: what failed, why, and what to do next."""
    what = f"{action} failed: " if action else ""
    if isinstance(exc, BackendClientError) and not isinstance(
        exc, BackendConnectionError | BackendTimeoutError
    ):
        # client errors already name the bad value and its fix
        return usage_error(f"{what}{one_line(exc)}")
    if isinstance(exc, BackendError):
        step = _next_step(exc)
        return usage_error(f"{what}{one_line(exc)}" + (f"; {step}" if step else ""))
    if isinstance(exc, FileNotFoundError):
        return usage_error(f"{what}no such file or directory: {exc.filename!r}; check the path")
    if isinstance(exc, IsADirectoryError | NotADirectoryError | PermissionError | FileExistsError):
        return usage_error(f"{what}{exc.strerror}: {exc.filename!r}; check the path")
    if isinstance(exc, OSError):
        return usage_error(f"{what}{one_line(exc)}; check the path and the disk")
    if isinstance(exc, EOFError):
        return usage_error(f"{what}no input could be read (this frontend has no input prompt)")
    return usage_error(f"{what}{one_line(exc)}")


@contextlib.contextmanager
def translate(action: str = "") -> Iterator[None]:
    """Turn SDK, OS and timeout failures inside the block into a one-line ``UsageError``."""
    try:
        yield
    except UsageError:
        raise
    except (BackendError, OSError, EOFError, TimeoutError) as exc:
        raise from_sdk(exc, action=action) from None
