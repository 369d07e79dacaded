"""Fixtures for the local endpoint's manager side: a real server on 127.0.0.1 and signed calls."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import aiohttp
import pytest
from manager_helpers import Api

from backendai_jupyter.local.config import LocalConfig
from backendai_jupyter.local.server import LocalEndpointThread


@pytest.fixture(scope="session")
def shared_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalEndpointThread]:
    """One endpoint (on its own loop thread) for tests that do not change its settings."""
    endpoint = LocalEndpointThread(LocalConfig(data_dir=tmp_path_factory.mktemp("local-manager")))
    endpoint.start()
    try:
        yield endpoint
    finally:
        endpoint.stop()


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    """A client session with a bounded timeout."""
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=120)) as session:
        yield session


@pytest.fixture
def api(shared_endpoint: LocalEndpointThread, http: aiohttp.ClientSession) -> Api:
    """Signed calls to the shared endpoint."""
    return Api(shared_endpoint.url, shared_endpoint.access_key, shared_endpoint.secret_key, http)
