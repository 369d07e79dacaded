"""Fixtures for the shared server tests: each runs against the real Backend.AI 24.03 stack and the local one.

A test that takes ``stack`` (directly or through ``client``) is parametrized over the backends: id
``realstack`` (marked ``realstack``) and id ``local`` (marked ``integration``). ``@pytest.mark.needs(CAP)``
keeps only the backends that have capability ``CAP`` (see ``realstack_support.CAPABILITIES``), so what one
backend cannot do is never collected for it rather than skipped.

Realstack settings come from BACKEND_* / REALSTACK_* variables when set, else from the realstack's env.sh,
else from the fixed public test values it documents. The realstack param SKIPS (with the reason) only when
the stack is not reachable; in CI the stack is started first, so it runs. The local param never skips: it
uses the session's ``local_endpoint`` process (tests/conftest.py).
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from realstack_support import (
    CAPABILITIES,
    Backend,
    CuttingProxy,
    local_backend,
    realstack_or_skip,
)

from backendai_jupyter.sdk.client import AsyncClient

#: One pytest param per backend, with the mark that ``-m`` selects it by.
BACKEND_PARAMS = {
    "realstack": pytest.param("realstack", marks=pytest.mark.realstack, id="realstack"),
    "local": pytest.param("local", marks=pytest.mark.integration, id="local"),
}


def pytest_configure(config: pytest.Config) -> None:
    """Register ``needs`` (the option is strict about markers)."""
    config.addinivalue_line(
        "markers", "needs(*capabilities): run only against the backends that have all of these capabilities"
    )


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Parametrize every test that uses ``stack`` over the backends that have the capabilities it needs."""
    if "stack" not in metafunc.fixturenames:
        return
    needed: set[str] = set()
    for mark in metafunc.definition.iter_markers("needs"):
        unknown = set(mark.args) - set().union(*CAPABILITIES.values())
        if unknown:
            raise pytest.UsageError(
                f"{metafunc.definition.nodeid}: unknown capability {sorted(unknown)}; "
                f"use one of {sorted(set().union(*CAPABILITIES.values()))}"
            )
        needed.update(mark.args)
    kinds = [kind for kind, caps in CAPABILITIES.items() if needed <= caps]
    metafunc.parametrize("stack", [BACKEND_PARAMS[kind] for kind in kinds], indirect=True)


@pytest.fixture(scope="session")
def stack(request: pytest.FixtureRequest) -> Backend:
    """The backend of this param; the realstack one skips when the stack is not running."""
    if request.param == "local":
        endpoint = request.getfixturevalue("local_endpoint")
        return local_backend(
            url=endpoint.url,
            access_key=endpoint.access_key,
            secret_key=endpoint.secret_key,
            email=endpoint.email,
            password=endpoint.password,
        )
    return realstack_or_skip()


@pytest.fixture
async def client(stack: Backend) -> AsyncIterator[AsyncClient]:
    """An AsyncClient for the backend's keypair, closed after the test."""
    async with AsyncClient(stack.config()) as c:
        yield c


@pytest.fixture
async def cutting_proxy() -> AsyncIterator[list[CuttingProxy]]:
    """A list to put started ``CuttingProxy`` objects in; all are stopped after the test."""
    proxies: list[CuttingProxy] = []
    yield proxies
    for proxy in proxies:
        await proxy.stop()
