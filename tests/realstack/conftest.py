"""Fixtures for the tests against the real Backend.AI 24.03 stack (../shared/realstack).

Settings come from BACKEND_* / REALSTACK_* variables when set, else from the realstack's env.sh, else from
the fixed public test values it documents. The tests SKIP (with the reason) only when the stack is not
reachable; in CI the stack is started first, so they run.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator

import pytest
from realstack_support import FALLBACK, CuttingProxy, RealStack, env_file_values, reachable

from backendai_jupyter.sdk.client import AsyncClient


@pytest.fixture(scope="session")
def realstack() -> RealStack:
    """The realstack settings; skips the test when the stack is not running."""
    values = {**FALLBACK, **env_file_values()}
    values.update({k: v for k, v in os.environ.items() if k in FALLBACK})
    stack = RealStack(
        endpoint=values["BACKEND_ENDPOINT"],
        access_key=values["BACKEND_ACCESS_KEY"],
        secret_key=values["BACKEND_SECRET_KEY"],
        webserver=values["REALSTACK_WEBSERVER"],
        email=values["REALSTACK_ADMIN_EMAIL"],
        password=values["REALSTACK_ADMIN_PASSWORD"],
        vfolder_host=values["REALSTACK_VFOLDER_HOST"],
        image=values["REALSTACK_IMAGE"],
    )
    if not reachable(stack.endpoint):
        pytest.skip(
            f"the realstack is not reachable at {stack.endpoint}; start it with ../shared/realstack/up.sh"
        )
    return stack


@pytest.fixture
async def client(realstack: RealStack) -> AsyncIterator[AsyncClient]:
    """An AsyncClient for the superadmin keypair, closed after the test."""
    async with AsyncClient(realstack.config()) as c:
        yield c


@pytest.fixture
async def cutting_proxy() -> AsyncIterator[list[CuttingProxy]]:
    """A list to put started ``CuttingProxy`` objects in; all are stopped after the test."""
    proxies: list[CuttingProxy] = []
    yield proxies
    for proxy in proxies:
        await proxy.stop()
