"""What to do next after a failure: one table of hints, worded for where the user reads them.

The kernel's cells and the ``%backend`` magics say the same thing about the same error; only the names of
their commands differ, so each hint is a template and a :class:`Surface` fills in the words.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from ..sdk.errors import (
    AuthenticationError,
    BackendAPIError,
    BackendClientError,
    BackendConnectionError,
    BackendError,
    BackendTimeoutError,
    BadRequestError,
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    QuotaExceededError,
    RateLimitError,
    ServerError,
    TooManySessionsMatchedError,
)

__all__ = ["KERNEL", "MAGICS", "Surface", "next_step", "one_line", "with_next_step"]


def one_line(exc: BaseException | str) -> str:
    """The text (of an exception) on one line; an exception without text is named by its class."""
    text = " ".join(str(exc).split())
    return text or (type(exc).__name__ if isinstance(exc, BaseException) else "")


@dataclass(frozen=True)
class Surface:
    """The words of one place hints are read in: its commands for settings, listing, retrying."""

    #: how to try again
    again: str
    #: the command that shows the settings
    settings: str
    #: how to log in, as an alternative to fixing the keypair ("" where there is none)
    login: str
    #: how to free resources
    free: str
    #: how to find the right name
    find: str
    #: where the server's side of a failure shows
    logs: str
    #: what to do about an unknown thing when it was not a name the user typed
    not_found: str
    #: what to do about a request the server refused as malformed
    bad_request: str
    #: the settings a new session is made from, for a refused create
    image_setting: str


KERNEL = Surface(
    again="run the cell again",
    settings="backendai-jupyter config",
    login="",
    free="end other sessions",
    find="backendai-jupyter config",
    logs="the server's logs",
    not_found="run the cell again to start a new session",
    bad_request="run the cell again; if it keeps failing, check the server (see: backendai-jupyter config)",
    image_setting="--BackendKernel.image / BACKENDAI_JUPYTER_IMAGE",
)
MAGICS = Surface(
    again="run it again",
    settings="%backend config",
    login=" or run %backend login",
    free="%backend rm unused sessions",
    find="%backend ps",
    logs="%backend logs",
    not_found="check the name (%backend ps, %backend vfolder list, %backend images)",
    bad_request="check the arguments (%backend <command> --help)",
    image_setting="BackendMagics.image / the IMAGE argument",
)

#: (error class, hint template), most specific first; the first class the error is an instance of wins.
_HINTS: tuple[tuple[type[BackendError], str], ...] = (
    (AuthenticationError, "check BACKEND_ACCESS_KEY / BACKEND_SECRET_KEY{login} (see: {settings})"),
    (PermissionDeniedError, "this account may not do that; ask your admin"),
    (QuotaExceededError, "free resources ({free}) or request fewer"),
    (RateLimitError, "the server is busy; wait a moment and {again}"),
    (TooManySessionsMatchedError, "give the full session name or id (see: {find})"),
    (NotFoundError, "{not_found}"),
    (ConflictError, "pick another name or remove the existing one first"),
    (ServerError, "the server failed; {again}, and check {logs} if it keeps failing"),
    (BackendTimeoutError, "the server is slow or unreachable; {again}, or raise BACKEND_READ_TIMEOUT"),
    (BackendConnectionError, "check the endpoint and your network (see: {settings}), then {again}"),
    (BackendAPIError, "{bad_request}"),
)
#: Where creating a session words a hint differently (the thing not found is the image, and so on).
_CREATE_HINTS: Mapping[type[BackendError], str] = {
    NotFoundError: "check the image name ({image_setting})",
    BadRequestError: "check the session settings (resources, mounts, environ)",
}


def next_step(exc: BackendError, surface: Surface, *, creating: bool = False) -> str:
    """What the user can do about ``exc``, in ``surface``'s words ("" when there is nothing to add)."""
    if creating:
        for cls, template in _CREATE_HINTS.items():
            if isinstance(exc, cls) and not isinstance(exc, TooManySessionsMatchedError | ConflictError):
                return template.format(**vars(surface))
    for cls, template in _HINTS:
        if isinstance(exc, cls):
            return template.format(**vars(surface))
    return ""


def with_next_step(exc: BackendError, surface: Surface, *, creating: bool = False) -> str:
    """One line: the cause, then what to do (client errors other than network ones already name their fix)."""
    if isinstance(exc, BackendClientError) and not isinstance(
        exc, BackendConnectionError | BackendTimeoutError
    ):
        return f"{one_line(exc)}; then {surface.again}"
    step = next_step(exc, surface, creating=creating)
    return f"{one_line(exc)}; {step}" if step else one_line(exc)
