"""Fixtures for the SDK tests: a clean environment and a fake manager on a loopback port."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator

import pytest
from fakeserver import FakeManager

from backendai_jupyter.sdk import config as config_module


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No BACKEND_*/SORNA_* variables and no process-wide config: tests see only what they set."""
    for name in list(os.environ):
        if name.startswith(("BACKEND_", "SORNA_")):
            monkeypatch.delenv(name)
    monkeypatch.setattr(config_module, "_current", None)


@pytest.fixture
async def fake_manager(clean_env: None) -> AsyncIterator[FakeManager]:
    """A started FakeManager (add routes before the first request; aiohttp allows it until frozen)."""
    server = FakeManager()
    yield server
    await server.stop()
