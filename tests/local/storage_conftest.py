"""Test support for the storage side of the local endpoint: real aiohttp servers on 127.0.0.1, port 0.

Until the manager side's server exists, :func:`running_stack` builds the pieces it will provide with the
smallest stand-ins: a test-only middleware that marks every request as authenticated (access key from the
``X-Test-Access-Key`` header) and renders ``Problem`` as problem+json, and :class:`FakeSessions`, a
``SessionDirectory`` that hands out scratch folders made by the test. Everything else is the real code.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web
from aiohttp.test_utils import TestServer
from aiohttp.typedefs import Handler

from backendai_jupyter.local import session_files, storage, vfolder_routes
from backendai_jupyter.local.context import CONTEXT, REQUEST_ACCESS_KEY, REQUEST_USER
from backendai_jupyter.local.endpoint_state import LocalContext, User
from backendai_jupyter.local.problems import Problem, problem_response

AK = "AKIATESTSTORAGE00001"
OTHER_AK = "AKIATESTSTORAGE00002"
PROBLEM = "https://api.backend.ai/probs/"


class FakeSessions:
    """Stands in for the manager side's session registry: scratch folders by (access key, session name)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.workdirs: dict[tuple[str, str], Path] = {}

    def add(self, access_key: str, name: str) -> Path:
        """Make the scratch folder of a new session."""
        workdir = self.root / name / "work"
        workdir.mkdir(parents=True)
        self.workdirs[access_key, name] = workdir
        return workdir

    def workdir_of(self, access_key: str, name_or_id: str) -> Path:
        """The scratch folder, or 404 as the registry answers it."""
        try:
            return self.workdirs[access_key, name_or_id]
        except KeyError:
            raise Problem.not_found("No such session.") from None


@web.middleware
async def fake_auth(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Stands in for the manager side's HMAC middleware: trusts a header, renders problems."""
    ctx = request.app[CONTEXT]
    access_key = request.headers.get("X-Test-Access-Key", AK)
    request[REQUEST_ACCESS_KEY] = access_key
    request[REQUEST_USER] = ctx.users[access_key]
    try:
        return await handler(request)
    except Problem as problem:
        return problem_response(problem)


@dataclass
class Stack:
    """The running servers and a client session for one test."""

    url: str
    storage_url: str
    ctx: LocalContext
    sessions: FakeSessions
    http: aiohttp.ClientSession

    @property
    def data_dir(self) -> Path:
        """The endpoint's data dir."""
        return self.ctx.data_dir

    def request(
        self, method: str, path: str, *, ak: str = AK, **kwargs: Any
    ) -> aiohttp.client._RequestContextManager:
        """A request to the manager app as ``ak``."""
        headers = {"X-Test-Access-Key": ak, **kwargs.pop("headers", {})}
        return self.http.request(method, self.url + path, headers=headers, **kwargs)

    async def call(self, method: str, path: str, *, ak: str = AK, **kwargs: Any) -> tuple[int, Any]:
        """Status and decoded JSON body (or None) of a manager request."""
        async with self.request(method, path, ak=ak, **kwargs) as resp:
            text = await resp.text()
            return resp.status, (json.loads(text) if text else None)

    async def create_vfolder(self, name: str, *, ak: str = AK) -> dict[str, Any]:
        """Create a vfolder and return the 201 body."""
        status, body = await self.call("POST", "/folders", ak=ak, json={"name": name})
        assert status == 201, body
        return body  # type: ignore[no-any-return]

    def vfolder_path(self, name: str, *, ak: str = AK) -> Path:
        """Where the vfolder's files are on disk."""
        assert self.ctx.vfolders is not None
        return self.ctx.vfolders.path_of(ak, name)

    async def ticket(self, name: str, op: str, body: dict[str, Any]) -> tuple[str, str]:
        """(url, token) from request-upload / request-download."""
        status, reply = await self.call("POST", f"/folders/{name}/request-{op}", json=body)
        assert status == 200, reply
        return reply["url"], reply["token"]


def problem_type(body: Any) -> str:
    """The problem type without the common prefix."""
    assert isinstance(body, dict), body
    return str(body["type"]).removeprefix(PROBLEM)


@contextlib.asynccontextmanager
async def running_stack(tmp_path: Path) -> AsyncIterator[Stack]:
    """Manager routes (vfolders + session files) and the storage proxy, each on its own loopback port."""
    users = {
        AK: User(email="tester@example.com", access_key=AK, secret_key="unused-in-these-tests", uuid="u-1"),
        OTHER_AK: User(email="other@example.com", access_key=OTHER_AK, secret_key="unused", role="user"),
    }
    ctx = LocalContext(data_dir=tmp_path / "data", users=users)
    fake_sessions = FakeSessions(tmp_path / "sessions")
    ctx.sessions = fake_sessions
    app = web.Application(middlewares=[fake_auth])
    app[CONTEXT] = ctx
    vfolder_routes.setup_routes(app)
    session_files.setup_routes(app)
    manager = TestServer(app, host="127.0.0.1")
    proxy = TestServer(storage.create_app(ctx), host="127.0.0.1")
    await manager.start_server()
    await proxy.start_server()
    ctx.storage_url = str(proxy.make_url("")).rstrip("/")
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=120)) as http:
            yield Stack(
                url=str(manager.make_url("")).rstrip("/"),
                storage_url=ctx.storage_url,
                ctx=ctx,
                sessions=fake_sessions,
                http=http,
            )
    finally:
        await proxy.close()
        await manager.close()
