"""The testing-shell wrapper the magics tests drive %backend through (imported by name, unlike conftest)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import CapturedIO, capture_output

from backendai_jupyter.magics import BackendMagics
from backendai_jupyter.sdk import Client
from backendai_jupyter.widgets.options import ACTIVE_STATUSES


@dataclass
class Shell:
    """The testing shell with fresh magics, and a client of its own to check what the magics did."""

    ip: InteractiveShell
    magics: BackendMagics
    client: Client
    last: CapturedIO | None = field(default=None)

    def line(self, args: str) -> str:
        """Run ``%backend args``; return its stdout (exceptions propagate, e.g. UsageError)."""
        with capture_output() as cap:
            try:
                self.magics.backend(args)
            finally:
                self.last = cap
        return cap.stdout

    def cell(self, line: str, body: str) -> CapturedIO:
        """Run a ``%%backend line`` cell; return everything it showed."""
        with capture_output() as cap:
            try:
                self.magics.backend_cell(line, body)
            finally:
                self.last = cap
        return cap

    def run_cell(self, code: str) -> tuple[Any, CapturedIO]:
        """Run a whole cell through IPython (as a user would), capturing what it showed."""
        with capture_output() as cap:
            result = self.ip.run_cell(code, store_history=False)
        return result, cap

    def active_sessions(self) -> dict[str, str]:
        """Active session names -> status, straight from the server."""
        return {s.name or s.id: s.status for s in self.client.sessions.iter_all(status=ACTIVE_STATUSES)}
