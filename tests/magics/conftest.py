"""Fixtures of the magics tests: IPython's testing shell with %backend loaded against the local endpoint."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from magic_shell import Shell, backend_shell

from backendai_jupyter.wire import ACTIVE_SESSION_STATUSES as ACTIVE_STATUSES


@pytest.fixture
def shell(local_endpoint: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Shell]:
    """%backend in IPython's testing shell; every session the test leaves active is destroyed afterwards."""
    with backend_shell(monkeypatch, local_endpoint.env(), local_endpoint.config()) as sh:
        client = sh.client
        before = {s.name for s in client.sessions.iter_all(status=ACTIVE_STATUSES)}
        folders_before = {f.name for f in client.vfolders.list()}
        try:
            yield sh
        finally:
            for item in client.sessions.iter_all(status=ACTIVE_STATUSES):
                if item.name not in before:
                    client.sessions.destroy(item.name or item.id, forced=True)
            for folder in client.vfolders.list():
                if folder.name not in folders_before:
                    client.vfolders.delete(folder.name)
