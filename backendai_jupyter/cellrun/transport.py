"""The seam between one cell's run and the way its code reaches the session.

A :class:`Transport` starts the code, turns whatever the server sends into :data:`RunEvent` s (messages to
show, an input prompt, the end with its outcome), takes input answers and interrupts. ``CellRun`` drives
any transport the same way; :func:`transport_order` says which ones a preference tries, in order.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

from ..display.messages import IopubMessage
from .outcome import CellOutcome

__all__ = ["InputRequest", "Output", "RunEnd", "RunEvent", "Transport", "TransportName", "transport_order"]

#: A way to run code (``wire.TRANSPORTS`` minus ``auto``).
TransportName = Literal["websocket", "rest"]


@dataclass(frozen=True)
class Output:
    """Messages to show now, in order."""

    messages: Sequence[IopubMessage]


@dataclass(frozen=True)
class InputRequest:
    """The code waits for a line of input; answer with ``Transport.send_input``."""

    prompt: str
    password: bool


@dataclass(frozen=True)
class RunEnd:
    """The run is over: its last messages (the error among them) and the reply fields."""

    messages: Sequence[IopubMessage]
    outcome: CellOutcome


RunEvent = Output | InputRequest | RunEnd


class Transport(Protocol):
    """One way to run one cell's code in a session."""

    name: TransportName

    async def start(self) -> bool:
        """Send the code; False when the server does not offer this transport (nothing ran: try the next).

        Raises ``SessionGone`` when the session does not exist, or an SDK error when the transport was
        asked for by name and cannot be used.
        """

    def events(self) -> AsyncIterator[RunEvent]:
        """What the run produces, ending with a ``RunEnd`` (or early, when the connection is cut)."""

    async def send_input(self, text: str) -> None:
        """Answer the last ``InputRequest``."""

    async def interrupt(self) -> None:
        """Ask the session to interrupt the code (best effort: the caller's grace period ends the wait)."""

    async def close(self) -> None:
        """Release the connection (idempotent)."""


def transport_order(preference: str) -> tuple[TransportName, ...]:
    """The transports a preference tries, best first: ``auto`` falls back; a named one is the only one."""
    if preference == "websocket":
        return ("websocket",)
    if preference == "rest":
        return ("rest",)
    if preference == "auto":
        return ("websocket", "rest")
    raise ValueError(f"transport {preference!r} is not one of auto, websocket, rest")
