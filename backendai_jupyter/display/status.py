"""The kernel's one-line session status (PENDING, PREPARING, RUNNING...) shown once and updated in place."""

from __future__ import annotations

import html
import itertools

from .messages import IopubMessage, display_message

__all__ = ["StatusLine", "format_elapsed", "status_text"]

_WAITING = {
    "PENDING": "waiting for resources",
    "SCHEDULED": "scheduled on an agent",
    "PREPARING": "pulling the image and starting the container",
    "PULLING": "pulling the image",
    "CREATING": "creating the container",
    "RUNNING": "ready",
    "RESTARTING": "restarting",
    "TERMINATING": "terminating",
    "TERMINATED": "terminated",
    "CANCELLED": "cancelled",
    "ERROR": "failed",
}
_ids = itertools.count(1)


def format_elapsed(seconds: float) -> str:
    """``0.4 s``, ``12 s``, ``2 min 05 s``."""
    if seconds < 0:
        raise ValueError(f"elapsed time {seconds!r} is negative: pass the seconds since the request started")
    if seconds < 10:
        return f"{seconds:.1f} s"
    whole = int(seconds)
    if whole < 60:
        return f"{whole} s"
    return f"{whole // 60} min {whole % 60:02d} s"


def status_text(status: str, *, session: str, elapsed: float, image: str | None = None) -> str:
    """``Backend.AI session 'name' (image): PENDING - waiting for resources (12 s)``."""
    state = status.upper()
    what = _WAITING.get(state)
    label = f"{state} - {what}" if what else state
    where = f" ({image})" if image else ""
    return f"Backend.AI session {session!r}{where}: {label} ({format_elapsed(elapsed)})"


class StatusLine:
    """One status display: the first :meth:`show` creates it, later calls update it in place."""

    def __init__(self, display_id: str | None = None) -> None:
        self.display_id = display_id or f"backendai-status-{next(_ids)}"
        self._shown = False

    def show(self, text: str) -> IopubMessage:
        """A ``display_data`` the first time, then ``update_display_data`` with the same display id."""
        data = {"text/plain": text, "text/html": f"<pre>{html.escape(text)}</pre>"}
        message = display_message(data, display_id=self.display_id, update=self._shown)
        self._shown = True
        return message
