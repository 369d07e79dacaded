"""What ``%backend attach``/``detach`` may do to the kernel's session (a ``cellrun.KernelBinding``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .remote import RemoteCells

__all__ = ["SessionBinding"]


class SessionBinding:
    """The kernel's remote side as the magics see it: which session, and switching it."""

    def __init__(self, remote: RemoteCells) -> None:
        self._remote = remote

    def current(self) -> tuple[str, bool] | None:
        """The kernel's session as (name, owned), or None before it has one."""
        session = self._remote.session
        return (session.name, session.owned) if session.ref else None

    def attach(self, name: str, session_id: str) -> None:
        """Run the next cells in this existing session (never destroyed by this kernel)."""
        self._remote.use_session(name, session_id)

    def detach(self) -> str | None:
        """Stop using the current session; it keeps running."""
        return self._remote.leave_session()
