"""A cell's outcome and the failures of the session behind it (light: importing it never loads the SDK)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = ["CellOutcome", "SessionFailed", "SessionGone"]


class SessionGone(Exception):
    """The session vanished under the run (terminated, idle timeout, destroyed elsewhere)."""


class SessionFailed(Exception):
    """The session could not be created, started or found; the message says why and what to do."""


@dataclass
class CellOutcome:
    """The reply fields of one cell: ``status`` ok or error (with ename/evalue/traceback).

    ``exit_code`` is the remote process's exit code where the server reports one (batch mode).
    """

    status: Literal["ok", "error"] = "ok"
    ename: str = ""
    evalue: str = ""
    traceback: list[str] = field(default_factory=list)
    exit_code: int | None = None

    @classmethod
    def failure(cls, ename: str, evalue: str, traceback: list[str] | None = None) -> CellOutcome:
        """An error outcome; the traceback defaults to the one line ``ename: evalue``."""
        return cls("error", ename, evalue, traceback if traceback is not None else [f"{ename}: {evalue}"])

    @classmethod
    def from_error(cls, content: dict[str, Any]) -> CellOutcome:
        """The outcome of an ``error`` message's content (ename, evalue, traceback)."""
        return cls("error", str(content["ename"]), str(content["evalue"]), list(content["traceback"]))

    def content(self) -> dict[str, Any]:
        """The ``error`` message content (ename, evalue, traceback)."""
        return {"ename": self.ename, "evalue": self.evalue, "traceback": list(self.traceback)}
