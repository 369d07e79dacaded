"""The testing-shell wrapper the magics tests drive %backend through (imported by name, unlike conftest)."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import pytest
from IPython.core.interactiveshell import InteractiveShell
from IPython.testing import globalipapp
from IPython.utils.capture import CapturedIO, capture_output

from backendai_jupyter.magics import BackendMagics, load_ipython_extension, unload_ipython_extension
from backendai_jupyter.sdk import APIConfig, Client
from backendai_jupyter.wire import ACTIVE_SESSION_STATUSES as ACTIVE_STATUSES


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


@contextlib.contextmanager
def backend_shell(
    monkeypatch: pytest.MonkeyPatch, env: Mapping[str, str], config: APIConfig
) -> Iterator[Shell]:
    """%backend loaded into IPython's testing shell with only ``env`` of the client variables set."""
    for key in list(os.environ):
        if key.startswith(("BACKEND_", "SORNA_", "BACKENDAI_JUPYTER_")):
            monkeypatch.delenv(key, raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("BACKENDAI_JUPYTER_PROGRESS", "text")
    globalipapp.start_ipython()  # once per process; later calls do nothing
    ip = InteractiveShell.instance()
    magics = load_ipython_extension(ip)
    client = Client(config)
    try:
        yield Shell(ip=ip, magics=magics, client=client)
    finally:
        unload_ipython_extension(ip)
        client.close()
