"""Fixtures of the widget tests: the pickers' backend (the magics' adapter) against the local endpoint."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
from IPython.core.interactiveshell import InteractiveShell
from IPython.testing import globalipapp

from backendai_jupyter.magics import load_ipython_extension, unload_ipython_extension
from backendai_jupyter.magics.cmd_images import MagicsPickerBackend
from backendai_jupyter.magics.context import Context
from backendai_jupyter.sdk import Client
from backendai_jupyter.wire import ACTIVE_SESSION_STATUSES as ACTIVE_STATUSES


@pytest.fixture
def picker_backend(
    local_endpoint: Any, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[MagicsPickerBackend, Context, Client]]:
    """(backend, magics context, checking client); sessions the test leaves active are destroyed."""
    for key in list(os.environ):
        if key.startswith(("BACKEND_", "SORNA_", "BACKENDAI_JUPYTER_")):
            monkeypatch.delenv(key, raising=False)
    for key, value in local_endpoint.env().items():
        monkeypatch.setenv(key, value)
    globalipapp.start_ipython()
    ip = InteractiveShell.instance()
    magics = load_ipython_extension(ip)
    client = Client(local_endpoint.config())
    before = {s.name for s in client.sessions.iter_all(status=ACTIVE_STATUSES)}
    try:
        yield MagicsPickerBackend(magics.context), magics.context, client
    finally:
        unload_ipython_extension(ip)
        for item in client.sessions.iter_all(status=ACTIVE_STATUSES):
            if item.name not in before:
                client.sessions.destroy(item.name or item.id, forced=True)
        client.close()
