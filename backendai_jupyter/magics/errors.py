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

from ..cellrun.hints import MAGICS, next_step, one_line
from ..sdk.errors import BackendClientError, BackendConnectionError, BackendError, BackendTimeoutError
from ..settings import SettingError

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


def from_sdk(exc: BaseException, *, action: str = "") -> UsageError:
    """One line for an SDK (or OS) failure: what failed, why, and what to do next."""
    what = f"{action} failed: " if action else ""
    if isinstance(exc, BackendClientError) and not isinstance(
        exc, BackendConnectionError | BackendTimeoutError
    ):
        # client errors already name the bad value and its fix
        return usage_error(f"{what}{one_line(exc)}")
    if isinstance(exc, BackendError):
        step = next_step(exc, MAGICS)
        return usage_error(f"{what}{one_line(exc)}" + (f"; {step}" if step else ""))
    if isinstance(exc, FileNotFoundError):
        return usage_error(f"{what}no such file or directory: {exc.filename!r}; check the path")
    if isinstance(exc, IsADirectoryError | NotADirectoryError | PermissionError | FileExistsError):
        return usage_error(f"{what}{exc.strerror}: {exc.filename!r}; check the path")
    if isinstance(exc, OSError):
        return usage_error(f"{what}{one_line(exc)}; check the path and the disk")
    if isinstance(exc, SettingError):
        return usage_error(f"{what}{one_line(exc)}; fix it, then run the command again")
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
    except (BackendError, OSError, EOFError, TimeoutError, SettingError) as exc:
        raise from_sdk(exc, action=action) from None
