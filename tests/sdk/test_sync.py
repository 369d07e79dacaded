"""The sync facade: the private loop thread, the typed descriptors, and Client inside a running loop."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import textwrap
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from aiohttp import web
from fakeserver import FakeManager

from backendai_jupyter.sdk import APIConfig, AuthenticationError
from backendai_jupyter.sdk.sync import (
    Client,
    LoopThread,
    SyncResource,
    loop_thread,
    sync_iter_method,
    sync_method,
)


class Calc:
    """A tiny async resource."""

    def __init__(self) -> None:
        self.closed = False
        self.threads: set[str] = set()

    async def add(self, a: int, *, b: int = 1) -> int:
        """Add two numbers."""
        import threading

        self.threads.add(threading.current_thread().name)
        return a + b

    async def count(self, n: int) -> AsyncIterator[int]:
        """Count up to n."""
        try:
            for i in range(n):
                yield i
        finally:
            self.closed = True


class SyncCalc(SyncResource[Calc]):
    add = sync_method(Calc.add)
    count = sync_iter_method(Calc.count)


@pytest.fixture
def loop() -> Iterator[LoopThread]:
    thread = LoopThread(name="test-loop")
    yield thread
    thread.stop()


def test_descriptor_behaviour(loop: LoopThread) -> None:
    calc = Calc()
    sync = SyncCalc(calc, loop=loop)
    total: int = sync.add(1, b=2)
    assert total == 3
    assert calc.threads == {"test-loop"}
    numbers: list[int] = list(sync.count(3))
    assert numbers == [0, 1, 2]
    assert SyncCalc.add.__doc__ == "Add two numbers."
    assert sync.add.__name__ == "add"


def test_closing_the_sync_iterator_closes_the_async_one(loop: LoopThread) -> None:
    calc = Calc()
    for i in SyncCalc(calc, loop=loop).count(100):
        if i == 2:
            break
    # The for loop dropped the generator; CPython finalizes it at once, which runs aclose() on the loop.
    assert calc.closed


async def test_run_works_inside_a_running_loop(loop: LoopThread) -> None:
    # This test's own loop is running (as in Jupyter); run() must not need it and must not nest it.
    assert asyncio.get_running_loop() is not loop.loop
    assert loop.run(asyncio.sleep(0, result="done")) == "done"


def test_deadlock_guard(loop: LoopThread) -> None:
    async def inner() -> str:
        return "never"

    async def outer() -> str:
        try:
            return loop.run(inner())
        except RuntimeError as exc:
            return str(exc)

    assert "would deadlock" in loop.run(outer())


def test_timeout_cancels_the_work(loop: LoopThread) -> None:
    cancelled = asyncio.Event()

    async def forever() -> None:
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            cancelled.set()
            raise

    with pytest.raises(TimeoutError, match=r"within 0\.05 s"):
        loop.run(forever(), timeout=0.05)

    async def was_cancelled() -> bool:
        await asyncio.wait_for(cancelled.wait(), timeout=5)
        return cancelled.is_set()

    assert loop.run(was_cancelled())


def test_process_wide_instance() -> None:
    assert loop_thread() is loop_thread()


def test_mypy_accepts_the_descriptor_and_rejects_misuse(tmp_path: Path) -> None:
    source = textwrap.dedent(
        """
        from collections.abc import AsyncIterator, Iterator
        from backendai_jupyter.sdk.sync import SyncResource, sync_iter_method, sync_method

        class Calc:
            async def add(self, a: int, *, b: int = 1) -> int:
                return a + b

            async def count(self, n: int) -> AsyncIterator[int]:
                for i in range(n):
                    yield i

        class SyncCalc(SyncResource[Calc]):
            add = sync_method(Calc.add)
            count = sync_iter_method(Calc.count)

        def ok(c: SyncCalc) -> tuple[int, Iterator[int]]:
            return c.add(1, b=2), c.count(3)

        def bad(c: SyncCalc) -> None:
            c.add("one")
            text: str = c.add(1)
            c.add(1, c=2)

        class CalcPlus(Calc):  # a facade of a subclass serves the methods it inherits
            async def twice(self, a: int) -> int:
                return 2 * a

        class SyncCalcPlus(SyncResource[CalcPlus]):
            add = sync_method(CalcPlus.add)
            twice = sync_method(CalcPlus.twice)

        def inherited(c: SyncCalcPlus) -> int:
            return c.add(1, b=2) + c.twice(3)
        """
    )
    path = tmp_path / "typed_use.py"
    path.write_text(source)
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-error-summary", str(path)],
        capture_output=True,
        text=True,
        timeout=240,
        cwd=Path(__file__).resolve().parents[2],
    )
    errors = [line for line in result.stdout.splitlines() if ": error:" in line]
    lines = sorted(int(line.split(":")[1]) for line in errors)
    assert lines == [21, 22, 23], result.stdout + result.stderr


async def test_client_from_inside_a_running_loop(clean_env: None) -> None:
    # The server runs on its own loop thread, so this test's loop may block in the sync calls.
    server_loop = LoopThread(name="server-loop")
    server = FakeManager()

    async def login(request: web.Request) -> web.Response:
        body = await request.json()
        if body.get("otp") != "654321":
            return web.json_response({"authenticated": False, "data": {"details": "OTP not provided"}})
        resp = web.json_response({"authenticated": True, "data": {"access_key": "AK"}})
        resp.set_cookie("AIOHTTP_SESSION", "c1")
        return resp

    async def func(request: web.Request) -> web.Response:
        if request.cookies.get("AIOHTTP_SESSION") != "c1":
            return web.json_response({"type": "auth-failed", "title": "Unauthorized access"}, status=401)
        return web.json_response({"items": [1, 2]})

    async def probe(request: web.Request) -> web.Response:
        return web.json_response({"version": "v8.20240315"})

    server.route("GET", "/func/", probe)
    server.route("POST", "/server/login", login)
    server.route("GET", "/func/folders", func)
    url = server_loop.run(server.start())
    prompts: list[str] = []

    def prompt() -> str:
        prompts.append("asked")
        return "654321"

    try:
        conf = APIConfig(endpoint=str(url), endpoint_type="session")
        with Client(conf, otp_prompt=prompt) as client:
            with pytest.raises(AuthenticationError):
                client.request("GET", "/folders")
            assert client.api_version == "v8.20240315"
            assert client.auth.login("u@example.com", "pw") == {"access_key": "AK"}
            assert prompts == ["asked"]
            assert client.request("GET", "/folders").json() == {"items": [1, 2]}
            # with the one-time password given, nothing is asked
            assert client.auth.login("u@example.com", "pw", otp="654321") == {"access_key": "AK"}
            assert prompts == ["asked"]
    finally:
        server_loop.run(server.stop())
        server_loop.stop()
