"""Fixtures shared by every test layer: the local endpoint as a real server process."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from endpoint_support import RunningEndpoint, start_local_endpoint, stop_process


@pytest.fixture(scope="session")
def local_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningEndpoint]:
    """One local endpoint process for the whole test session."""
    proc, endpoint = start_local_endpoint(tmp_path_factory.mktemp("local-endpoint"))
    try:
        yield endpoint
    finally:
        stop_process(proc)
