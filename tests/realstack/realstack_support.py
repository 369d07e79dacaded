"""Helpers for the realstack tests: the two backends, unique names, random files and a cutting proxy."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import secrets
import socket
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from yarl import URL

from backendai_jupyter.sdk.config import APIConfig

ROOT = Path(__file__).resolve().parents[2]
ENV_FILES = (
    Path(os.environ.get("REALSTACK_ENV_FILE", "/nonexistent")),
    ROOT.parent / "shared" / "realstack" / "env.sh",
    Path("/work/shared/realstack/env.sh"),
)
#: The fixed, public test values of the realstack's fixtures (used when no env.sh is found).
FALLBACK = {
    "BACKEND_ENDPOINT": "http://127.0.0.1:8081",
    "BACKEND_ACCESS_KEY": "AKIAIOSFODNN7EXAMPLE",
    "BACKEND_SECRET_KEY": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    "REALSTACK_WEBSERVER": "http://127.0.0.1:8090",
    "REALSTACK_ADMIN_EMAIL": "admin@lablup.com",
    "REALSTACK_ADMIN_PASSWORD": "wJalrXUt",
    "REALSTACK_VFOLDER_HOST": "local:volume1",
    "REALSTACK_IMAGE": "python",
}
#: The dummy agent's python image needs at least this much memory.
SESSION_RESOURCES = {"cpu": 1, "mem": "512m"}


#: What a backend can do beyond what every backend does (the tests that need one run only where it is).
RUN_CODE = "run_code"  # execute code in a session (the realstack's dummy agent answers "not-implemented")
SESSION_FILES = "session_files"  # list/download files inside a session (the dummy agent has none)
PURGE_ON_DELETE = "purge_on_delete"  # deleting a vfolder frees its name (24.03 only moves it to the trash)
#: The backends the shared test bodies run against, and their capabilities.
CAPABILITIES: dict[str, frozenset[str]] = {
    "realstack": frozenset(),
    "local": frozenset({RUN_CODE, SESSION_FILES, PURGE_ON_DELETE}),
}
#: What the local endpoint reports and serves (it is a 23.09 manager with its own python image).
LOCAL_API_VERSION = "v7.20230615"
LOCAL_MANAGER_PREFIX = "23.09"
LOCAL_VFOLDER_HOST = "local:volume1"
LOCAL_IMAGE = "python"
LOCAL_CANONICAL_IMAGE = (
    f"cr.backend.ai/stable/python:{sys.version_info.major}.{sys.version_info.minor}-ubuntu22.04"
)


def env_file_values() -> dict[str, str]:
    """KEY=VALUE pairs of the first realstack env.sh found."""
    for path in ENV_FILES:
        if path.is_file():
            pairs = re.findall(r"^\s*export\s+(\w+)=(\S*)", path.read_text(), flags=re.M)
            return {k: v.strip("'\"") for k, v in pairs}
    return {}


@dataclass(frozen=True, kw_only=True)
class Backend:
    """One server the shared tests run against: where it is, who to be there, and what it reports and can do.

    The defaults of the version fields are the realstack's, so ``Backend(...)`` with the settings alone
    describes the realstack.
    """

    endpoint: str
    access_key: str
    secret_key: str = field(repr=False)
    webserver: str
    email: str
    password: str = field(repr=False)
    vfolder_host: str
    image: str
    kind: str = "realstack"
    api_version: str = "v8.20240315"
    manager_prefix: str = "24.03"
    canonical_image: str = "cr.backend.ai/stable/python:3.9-ubuntu20.04"

    @property
    def capabilities(self) -> frozenset[str]:
        """What this backend can do beyond the common ground (see ``CAPABILITIES``)."""
        return CAPABILITIES[self.kind]

    @property
    def runs_code(self) -> bool:
        """Whether code executed in a session really runs."""
        return RUN_CODE in self.capabilities

    def env(self) -> dict[str, str]:
        """``BACKEND_*`` variables that point a client at the backend's keypair (API mode)."""
        return {
            "BACKEND_ENDPOINT": self.endpoint,
            "BACKEND_ENDPOINT_TYPE": "api",
            "BACKEND_ACCESS_KEY": self.access_key,
            "BACKEND_SECRET_KEY": self.secret_key,
        }

    def config(self, **overrides: object) -> APIConfig:
        """An API-mode configuration for the backend's keypair."""
        settings: dict[str, object] = {
            "endpoint": self.endpoint,
            "endpoint_type": "api",
            "access_key": self.access_key,
            "secret_key": self.secret_key,
        }
        settings.update(overrides)
        return APIConfig(**settings)  # type: ignore[arg-type]


def realstack_backend() -> Backend:
    """The realstack: BACKEND_* / REALSTACK_* variables, else its env.sh, else the documented test values."""
    values = {**FALLBACK, **env_file_values()}
    values.update({k: v for k, v in os.environ.items() if k in FALLBACK})
    return Backend(
        endpoint=values["BACKEND_ENDPOINT"],
        access_key=values["BACKEND_ACCESS_KEY"],
        secret_key=values["BACKEND_SECRET_KEY"],
        webserver=values["REALSTACK_WEBSERVER"],
        email=values["REALSTACK_ADMIN_EMAIL"],
        password=values["REALSTACK_ADMIN_PASSWORD"],
        vfolder_host=values["REALSTACK_VFOLDER_HOST"],
        image=values["REALSTACK_IMAGE"],
    )


def realstack_or_skip() -> Backend:
    """``realstack_backend()``, or skip the test (saying how to start the stack) when it is not reachable."""
    backend = realstack_backend()
    if not reachable(backend.endpoint):
        pytest.skip(
            f"the realstack is not reachable at {backend.endpoint}; start it with ../shared/realstack/up.sh"
        )
    return backend


def local_backend(*, url: str, access_key: str, secret_key: str, email: str, password: str) -> Backend:
    """The local endpoint at ``url`` (session mode is served on the same URL)."""
    return Backend(
        kind="local",
        endpoint=url,
        access_key=access_key,
        secret_key=secret_key,
        webserver=url,
        email=email,
        password=password,
        vfolder_host=LOCAL_VFOLDER_HOST,
        image=LOCAL_IMAGE,
        api_version=LOCAL_API_VERSION,
        manager_prefix=LOCAL_MANAGER_PREFIX,
        canonical_image=LOCAL_CANONICAL_IMAGE,
    )


def reachable(url: str) -> bool:
    """Whether a TCP connection to the URL's host and port succeeds within 3 s."""
    parsed = URL(url)
    try:
        with socket.create_connection((parsed.host or "127.0.0.1", parsed.port or 80), timeout=3):
            return True
    except OSError:
        return False


def unique(prefix: str) -> str:
    """A fresh name (24.03 only trashes deleted vfolders, so names are never reused)."""
    return f"{prefix}-{secrets.token_hex(4)}"


def write_random(path: Path, size: int) -> None:
    """Write ``size`` random bytes in 1 MiB pieces."""
    with open(path, "wb") as out:
        left = size
        while left:
            n = min(left, 1024 * 1024)
            out.write(os.urandom(n))
            left -= n


def same_content(a: Path, b: Path) -> bool:
    """Byte-by-byte comparison in 1 MiB pieces."""
    if a.stat().st_size != b.stat().st_size:
        return False
    with open(a, "rb") as fa, open(b, "rb") as fb:
        while True:
            x, y = fa.read(1024 * 1024), fb.read(1024 * 1024)
            if x != y:
                return False
            if not x:
                return True


class CuttingProxy:
    """A TCP proxy on 127.0.0.1:0 that cuts its FIRST connection after N bytes in one direction.

    ``direction`` is "up" (client -> server, e.g. an upload body) or "down" (server -> client, a download).
    It records the bytes forwarded each way and the opening bytes of every connection's first request.
    """

    def __init__(self, target_host: str, target_port: int, *, cut_after: int, direction: str) -> None:
        self._target = (target_host, target_port)
        self._cut_after = cut_after
        self._direction = direction
        self._server: asyncio.AbstractServer | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self.connections = 0
        self.cuts = 0
        self.up_bytes = 0
        self.down_bytes = 0
        self.request_heads: list[bytes] = []
        self.port = 0

    async def start(self) -> str:
        """Listen; return ``http://127.0.0.1:<port>``."""
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{self.port}"

    async def stop(self) -> None:
        """Stop listening and drop every connection."""
        if self._server is not None:
            self._server.close()
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(BaseException):
                await task
        if self._server is not None:
            await self._server.wait_closed()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        cut_here = self.connections == 1
        up_reader, up_writer = await asyncio.open_connection(*self._target)
        first = [True]
        done = asyncio.Event()

        async def pump(src: asyncio.StreamReader, dst: asyncio.StreamWriter, up: bool) -> None:
            moved = 0
            try:
                while chunk := await src.read(65536):
                    if up and first[0]:
                        self.request_heads.append(chunk[:2048])
                        first[0] = False
                    cut_dir = (self._direction == "up") == up
                    if cut_here and cut_dir and moved + len(chunk) > self._cut_after:
                        chunk = chunk[: max(0, self._cut_after - moved)]
                        dst.write(chunk)
                        await dst.drain()
                        self._count(up, len(chunk))
                        self.cuts += 1
                        return
                    dst.write(chunk)
                    await dst.drain()
                    moved += len(chunk)
                    self._count(up, len(chunk))
            except (ConnectionError, asyncio.CancelledError):
                pass
            finally:
                done.set()

        tasks = [
            asyncio.create_task(pump(reader, up_writer, True)),
            asyncio.create_task(pump(up_reader, writer, False)),
        ]
        for t in tasks:
            self._tasks.add(t)
            t.add_done_callback(self._tasks.discard)
        await done.wait()
        # one side ended (or was cut): close both directions hard, as a broken network would
        for t in tasks:
            t.cancel()
        for w in (writer, up_writer):
            transport = w.transport
            if transport is not None:
                transport.abort()

    def _count(self, up: bool, n: int) -> None:
        if up:
            self.up_bytes += n
        else:
            self.down_bytes += n
