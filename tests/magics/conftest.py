"""Fixtures of the magics tests: IPython's testing shell with %backend loaded against the local endpoint."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
from IPython.core.interactiveshell import InteractiveShell
from IPython.testing import globalipapp
from magic_shell import Shell

from backendai_jupyter.magics import load_ipython_extension, unload_ipython_extension
from backendai_jupyter.sdk import Client
from backendai_jupyter.widgets.options import ACTIVE_STATUSES


def _clean_env(monkeypatch: pytest.MonkeyPatch, endpoint: Any) -> None:
    for key in list(os.environ):
        if key.startswith(("BACKEND_", "SORNA_", "BACKENDAI_JUPYTER_")):
            monkeypatch.delenv(key, raising=False)
    for key, value in endpoint.env().items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("BACKENDAI_JUPYTER_PROGRESS", "text")


@pytest.fixture
def shell(local_endpoint: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Shell]:
    """%backend in IPython's testing shell; every session the test leaves active is destroyed afterwards."""
    _clean_env(monkeypatch, local_endpoint)
    globalipapp.start_ipython()  # once per process; later calls do nothing
    ip = InteractiveShell.instance()
    magics = load_ipython_extension(ip)
    client = Client(local_endpoint.config())
    before = {s.name for s in client.sessions.iter_all(status=ACTIVE_STATUSES)}
    folders_before = {f.name for f in client.vfolders.list()}
    try:
        yield Shell(ip=ip, magics=magics, client=client)
    finally:
        unload_ipython_extension(ip)
        for item in client.sessions.iter_all(status=ACTIVE_STATUSES):
            if item.name not in before:
                client.sessions.destroy(item.name or item.id, forced=True)
        for folder in client.vfolders.list():
            if folder.name not in folders_before:
                client.vfolders.delete(folder.name)
        client.close()
