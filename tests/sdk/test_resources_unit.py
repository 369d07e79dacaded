"""Resources against small real aiohttp servers on 127.0.0.1 that record what they receive.

Covers the version-dependent paths and fields (v4/v5/v7/v8), the execute loop and stream, events,
session file transfers, and the resumable vfolder transfers (tus upload, ranged download).
"""

from __future__ import annotations

import email.policy
import io
import json
import os
import tarfile
from collections.abc import AsyncIterator, Awaitable, Callable
from email.parser import BytesParser
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from fakeserver import FakeManager, RecordingSleep, problem

from backendai_jupyter.sdk.client import AsyncClient
from backendai_jupyter.sdk.config import APIConfig
from backendai_jupyter.sdk.errors import (
    BackendClientError,
    BackendConnectionError,
    BadRequestError,
    ServerError,
)
from backendai_jupyter.sdk.resources.sessions import extract_tar_safely
from backendai_jupyter.sdk.resources.vfolders import VFolders
from backendai_jupyter.sdk.types import TransferProgress

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def make_client(server: FakeManager, **overrides: Any) -> AsyncClient:
    conf = APIConfig(
        endpoint=str(server.url),
        access_key=server.access_key,
        secret_key=server.secret_key,
        version="v8.20240315",
        **overrides,
    )
    return AsyncClient(conf, sleep=RecordingSleep())


def json_handler(reply: Any, status: int = 200) -> Handler:
    async def handler(request: web.Request) -> web.StreamResponse:
        return web.json_response(reply, status=status)

    return handler


@pytest.fixture
def manager(fake_manager: FakeManager) -> FakeManager:
    """The sdk-core helper's fake manager (started by each test after it adds routes)."""
    return fake_manager


def bodies(server: FakeManager, method: str, prefix: str) -> list[Any]:
    return [
        json.loads(s.body) if s.body else None
        for s in server.api_requests()
        if s.method == method and s.raw_path.startswith(prefix)
    ]


# -- sessions: create --------------------------------------------------------------------------------------

CREATED = {
    "sessionId": "u-1",
    "sessionName": "sess-1",
    "status": "RUNNING",
    "servicePorts": [],
    "created": True,
}


@pytest.mark.parametrize(
    ("version", "path", "expect_top", "expect_absent", "expect_config"),
    [
        (
            "v4.20181215",
            "/kernel",
            {"lang": "python", "clientSessionToken": "sess-1"},
            {"image", "name", "type", "clusterSize", "enqueueOnly"},
            {"clusterSize": 2},
        ),
        (
            "v4.20190615",
            "/kernel",
            {"image": "python", "clientSessionToken": "sess-1", "type": "interactive", "reuseIfExists": True},
            {"name", "clusterSize", "clusterMode"},
            {"clusterSize": 2},
        ),
        (
            "v5.20191215",
            "/session",
            {"image": "python", "name": "sess-1", "enqueueOnly": True, "maxWaitSeconds": 5},
            {"clientSessionToken", "clusterSize", "architecture"},
            {"clusterSize": 2},
        ),
        (
            "v7.20230615",
            "/session",
            {"image": "python", "name": "sess-1", "clusterSize": 2, "clusterMode": "single-node"},
            {"clientSessionToken", "architecture", "bootstrap_script", "tag"},
            {},
        ),
    ],
)
async def test_create_fields_follow_the_version(
    manager: FakeManager,
    version: str,
    path: str,
    expect_top: dict[str, Any],
    expect_absent: set[str],
    expect_config: dict[str, Any],
) -> None:
    manager.version = version
    manager.route("POST", path, json_handler(CREATED, status=201))
    await manager.start()
    async with make_client(manager) as client:
        v4_old = version == "v4.20181215"
        created = await client.sessions.create(
            "python",
            name="sess-1",
            cluster_size=2,
            environ={"K": "V"},
            enqueue_only=not v4_old and version.startswith("v5"),
            max_wait=5 if version.startswith("v5") else 0,
        )
    assert created.id == "u-1"
    assert created.created is True
    (body,) = bodies(manager, "POST", path)
    for key, value in expect_top.items():
        assert body[key] == value, key
    assert not expect_absent & body.keys()
    assert body["config"]["environ"] == {"K": "V"}
    for key, value in expect_config.items():
        assert body["config"][key] == value
    if not expect_config:
        assert "clusterSize" not in body["config"]


async def test_create_refuses_fields_the_server_cannot_take(manager: FakeManager) -> None:
    manager.version = "v4.20190615"
    await manager.start()
    async with make_client(manager) as client:
        with pytest.raises(BackendClientError, match=r"mount_map= needs API v5\.20191215"):
            await client.sessions.create("python", name="sess-1", mount_map={"a": "/b"})
        with pytest.raises(BackendClientError, match="session name 'x' is not valid"):
            await client.sessions.create("python", name="x")
        with pytest.raises(BackendClientError, match=r"session name 'okname\\n' is not valid"):
            await client.sessions.create("python", name="okname\n")
    assert manager.api_requests() == []


async def test_create_reuse_reply_with_snake_case_ports_and_200(manager: FakeManager) -> None:
    reply = {
        "sessionId": "u-2",
        "sessionName": "s-22",
        "status": "RUNNING",
        "service_ports": [{"name": "jupyter"}],
    }
    manager.route("POST", "/session", json_handler({**reply, "created": False}, status=200))
    await manager.start()
    async with make_client(manager) as client:
        created = await client.sessions.create("python", name="s-22", architecture="aarch64", tag="t")
    assert created.created is False
    assert [p["name"] for p in created.service_ports] == ["jupyter"]
    (body,) = bodies(manager, "POST", "/session")
    assert body["architecture"] == "aarch64"
    assert body["tag"] == "t"


async def test_create_is_never_retried(manager: FakeManager) -> None:
    manager.route("POST", "/session", busy)
    await manager.start()
    async with make_client(manager) as client:
        with pytest.raises(ServerError):
            await client.sessions.create("python", name="sess-1")
    assert len(bodies(manager, "POST", "/session")) == 1


async def busy(request: web.Request) -> web.StreamResponse:
    return problem(503, "service-unavailable", "Busy.")


# -- sessions: listing, lifecycle ----------------------------------------------------------------------------


def gql_pages(rows: list[dict[str, Any]], seen: list[dict[str, Any]], *, bare: bool = False) -> Handler:
    async def handler(request: web.Request) -> web.StreamResponse:
        body = await request.json()
        seen.append(body)
        v = body["variables"]
        page = rows[v["offset"] : v["offset"] + v["limit"]]
        data = {"compute_session_list": {"items": page, "total_count": len(rows)}}
        return web.json_response(data if bare else {"data": data})

    return handler


async def test_list_pages_through_graphql_v7(manager: FakeManager) -> None:
    rows = [{"id": f"id{i}", "name": f"n{i}", "type": "INTERACTIVE", "status": "RUNNING"} for i in range(5)]
    seen: list[dict[str, Any]] = []
    manager.version = "v7.20230615"
    manager.route("POST", "/admin/gql", gql_pages(rows, seen))
    await manager.start()
    async with make_client(manager) as client:
        page = await client.sessions.list(status=["RUNNING", "RESTARTING"], limit=2)
        every = [item.id async for item in client.sessions.iter_all(page_size=2)]
    assert page.total_count == 5
    assert [i.name for i in page.items] == ["n0", "n1"]
    assert every == [f"id{i}" for i in range(5)]
    assert seen[0]["variables"]["status"] == "RUNNING,RESTARTING"
    assert [s["variables"]["offset"] for s in seen[1:]] == [0, 2, 4]
    assert "sess_id" not in seen[0]["query"]


async def test_list_v4_uses_legacy_path_and_field_names(manager: FakeManager) -> None:
    rows = [{"sess_id": "old-1", "sess_type": "INTERACTIVE", "lang": "python", "status": "RUNNING"}]
    seen: list[dict[str, Any]] = []
    manager.version = "v4.20190615"
    manager.route("POST", "/admin/graphql", gql_pages(rows, seen, bare=True))
    await manager.start()
    async with make_client(manager) as client:
        page = await client.sessions.list()
    assert "sess_id" in seen[0]["query"]
    assert "sess_type" in seen[0]["query"]
    (item,) = page.items
    assert (item.id, item.name, item.type, item.image) == ("old-1", "old-1", "INTERACTIVE", "python")


async def test_graphql_errors_raise(manager: FakeManager) -> None:
    manager.route("POST", "/admin/gql", json_handler({"data": None, "errors": [{"message": "boom"}]}))
    await manager.start()
    async with make_client(manager) as client:
        with pytest.raises(BadRequestError, match=r"GraphQL query failed\. - boom"):
            await client.sessions.list()


async def test_lifecycle_paths_and_queries(manager: FakeManager) -> None:
    manager.route("*", "/session/{tail:.*}", json_handler({"stats": {"status": "terminated"}}))
    await manager.start()
    async with make_client(manager) as client:
        s = client.sessions
        assert await s.destroy("sess-1", forced=True, owner_access_key="AK2") == {"status": "terminated"}
        await s.restart("sess-1")
        await s.interrupt("sess-1")
        await s.rename("sess-1", "sess-2")
        await s.match("se")
    paths = [(r.method, r.raw_path) for r in manager.api_requests()]
    assert paths == [
        ("DELETE", "/session/sess-1?forced=true&owner_access_key=AK2"),
        ("PATCH", "/session/sess-1"),
        ("POST", "/session/sess-1/interrupt"),
        ("POST", "/session/sess-1/rename?name=sess-2"),
        ("GET", "/session/_/match?id=se"),
    ]


@pytest.mark.parametrize(
    ("reply", "status", "expected"),
    [
        ({"result": {"status": "finished", "completions": ["print", "prin"]}}, 200, ["print", "prin"]),
        ({"result": {"suggestions": ["abs"]}}, 200, ["abs"]),
        (["x", "y"], 200, ["x", "y"]),
        ({"type": "https://api.backend.ai/probs/kernel-execution-failed", "title": "t"}, 500, []),
    ],
)
async def test_complete_shapes(manager: FakeManager, reply: Any, status: int, expected: list[str]) -> None:
    manager.route("POST", "/session/s-1/complete", json_handler(reply, status=status))
    await manager.start()
    async with make_client(manager) as client:
        assert await client.sessions.complete("s-1", "pri", row=0, col=3, line="pri") == expected
    (body,) = bodies(manager, "POST", "/session/s-1/complete")
    assert body == {"code": "pri", "options": {"row": 0, "col": 3, "line": "pri", "post": ""}}


async def test_info_and_list_files_quirks(manager: FakeManager) -> None:
    info = {"image": "cr/python:3", "status": "RUNNING", "occupiedSlots": "{'cpu': Decimal('1')}"}
    files = {"files": json.dumps([{"filename": "a.txt", "size": 3, "mode": "-rw-r--r--", "mtime": 1.5}])}
    manager.route("GET", "/session/s-1", json_handler(info))
    manager.route("GET", "/session/s-1/files", json_handler(files))
    await manager.start()
    async with make_client(manager) as client:
        got = await client.sessions.info("s-1")
        listing = await client.sessions.list_files("s-1", "work")
    assert got.name == "s-1"
    assert got.id is None
    assert got.raw["occupiedSlots"].startswith("{'cpu'")
    assert [(f.filename, f.size, f.mtime) for f in listing] == [("a.txt", 3, 1.5)]
    assert bodies(manager, "GET", "/session/s-1/files") == [{"path": "work"}]


# -- execution ---------------------------------------------------------------------------------------------


async def test_run_loop_continue_input_finished(manager: FakeManager) -> None:
    replies = [
        {"runId": "r1", "status": "continued", "console": [["stdout", "a"]], "exitCode": None},
        {"runId": "r1", "status": "waiting-input", "options": {"is_password": True}, "console": []},
        {"runId": "r1", "status": "finished", "exitCode": 0, "console": [["stdout", "bye"]]},
    ]

    async def handler(request: web.Request) -> web.StreamResponse:
        return web.json_response({"result": replies.pop(0)})

    manager.route("POST", "/session/s-1", handler)
    await manager.start()
    asked: list[bool] = []

    async def answer(is_password: bool) -> str:
        asked.append(is_password)
        return "secret-line"

    async with make_client(manager) as client:
        results = [r async for r in client.sessions.run("s-1", "x = input()", input_handler=answer)]
    assert [r.status for r in results] == ["continued", "waiting-input", "finished"]
    assert results[-1].exit_code == 0
    assert results[0].console[0].data == "a"
    assert asked == [True]
    sent = bodies(manager, "POST", "/session/s-1")
    assert sent == [
        {"mode": "query", "code": "x = input()", "runId": None},
        {"mode": "continue", "code": "", "runId": "r1"},
        {"mode": "input", "code": "secret-line", "runId": "r1"},
    ]


async def test_execute_is_never_retried(manager: FakeManager) -> None:
    manager.route("POST", "/session/s-1", busy)
    await manager.start()
    async with make_client(manager) as client:
        with pytest.raises(ServerError):
            await client.sessions.execute("s-1", mode="query", code="1")
        with pytest.raises(BackendClientError, match="needs the run_id"):
            await client.sessions.execute("s-1", mode="continue", code="")
    assert len(bodies(manager, "POST", "/session/s-1")) == 1


async def test_websocket_stream_with_input(manager: FakeManager) -> None:
    got: list[Any] = []

    async def ws_handler(request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        got.append(json.loads(await ws.receive_str()))
        await ws.send_json({"status": "waiting-input", "options": {"is_password": False}, "console": []})
        got.append(await ws.receive_str())
        await ws.send_json({"status": "finished", "exitCode": 0, "console": [["stdout", "ok\n"]]})
        await ws.close()
        return ws

    manager.version = "v4.20190615"
    manager.route("GET", "/stream/kernel/s-1/execute", ws_handler)
    await manager.start()
    statuses: list[str] = []
    async with make_client(manager) as client, client.sessions.stream("s-1", "input()") as stream:
        async for result in stream:
            statuses.append(result.status)
            if result.status == "waiting-input":
                await stream.send_input("typed")
    assert statuses == ["waiting-input", "finished"]
    assert got == [{"code": "input()", "mode": "query", "options": {}}, "typed"]


# -- events ------------------------------------------------------------------------------------------------


def sse_handler(events: list[tuple[str, dict[str, Any]]]) -> Handler:
    async def handler(request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await resp.prepare(request)
        await resp.write(b": ping\r\n\r\n")
        for name, data in events:
            await resp.write(f"event: {name}\r\ndata: {json.dumps(data)}\r\n\r\n".encode())
        return resp

    return handler


@pytest.mark.parametrize(
    ("version", "path", "query"),
    [
        ("v4.20190615", "/stream/kernel/_/events", "sessionId=my-sess"),
        ("v5.20191215", "/events/session", "name=my-sess"),
        ("v7.20230615", "/events/session", "sessionName=my-sess&scope=*"),
    ],
)
async def test_event_stream_paths(manager: FakeManager, version: str, path: str, query: str) -> None:
    events = [
        ("session_started", {"sessionName": "my-sess", "sessionId": "u1", "reason": None}),
        ("session_terminated", {"sessionName": "my-sess", "sessionId": "u1", "reason": "user-requested"}),
    ]
    manager.version = version
    manager.route("GET", path, sse_handler(events))
    await manager.start()
    async with make_client(manager) as client:
        names = [e.name async for e in client.events.session(session_name="my-sess")]
        waited = await client.events.wait_until("my-sess", ["TERMINATED"], timeout=10)
    assert names == ["session_started", "session_terminated"]
    assert waited.reason == "user-requested"
    assert waited.session_id == "u1"
    assert manager.api_requests()[0].raw_path == f"{path}?{query}"


# -- session files -------------------------------------------------------------------------------------------


async def test_session_upload_splits_requests_and_limits_size(manager: FakeManager, tmp_path: Path) -> None:
    parts_per_request: list[list[str]] = []

    async def upload(request: web.Request) -> web.StreamResponse:
        parts_per_request.append([name for name, _ in await form_parts(request)])
        return web.Response(status=204)

    manager.route("POST", "/session/s-1/upload", upload)
    await manager.start()
    files = []
    for i in range(25):
        (tmp_path / "d").mkdir(exist_ok=True)
        f = tmp_path / "d" / f"f{i:02}.txt"
        f.write_text(str(i))
        files.append(f)
    big = tmp_path / "big.bin"
    big.write_bytes(b"\0" * (1024 * 1024))
    async with make_client(manager) as client:
        await client.sessions.upload("s-1", files, basedir=tmp_path)
        with pytest.raises(BackendClientError, match=r"big\.bin.*vfolder"):
            await client.sessions.upload("s-1", [big])
    assert [len(p) for p in parts_per_request] == [20, 5]
    assert parts_per_request[0][0] == "d/f00.txt"


async def form_parts(request: web.Request) -> list[tuple[str, bytes]]:
    """(filename, content) of each part of a multipart body (the fake manager has already read it)."""
    raw = await request.read()
    head = f"Content-Type: {request.headers['Content-Type']}\r\n\r\n".encode()
    message = BytesParser(policy=email.policy.default).parsebytes(head + raw)
    parts = []
    for part in message.iter_parts():
        payload = part.get_payload(decode=True)
        parts.append((part.get_filename() or "", payload if isinstance(payload, bytes) else b""))
    return parts


def tar_of(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


async def test_session_download_falls_back_to_get_and_extracts(manager: FakeManager, tmp_path: Path) -> None:
    async def download(request: web.Request) -> web.StreamResponse:
        if request.method == "POST":
            return problem(405, "method-not-allowed", "Method not allowed.")
        files = json.loads(await request.read())["files"]
        with aiohttp.MultipartWriter("mixed") as mp:
            for name in files:
                mp.append(tar_of({name: f"content of {name}".encode()}))
        resp = web.StreamResponse(headers={"Content-Type": f"multipart/mixed; boundary={mp.boundary}"})
        await resp.prepare(request)
        await mp.write(resp)
        await resp.write_eof()
        return resp

    manager.version = "v8.20240315"
    manager.manager = "24.03.9"  # a backport that prefers POST; this server still answers 405 to it
    manager.route("*", "/session/s-1/download", download)
    await manager.start()
    async with make_client(manager) as client:
        written = await client.sessions.download("s-1", ["a.txt", "sub/b.txt"], dest=tmp_path)
    assert sorted(p.relative_to(tmp_path).as_posix() for p in written) == ["a.txt", "sub/b.txt"]
    assert (tmp_path / "sub" / "b.txt").read_text() == "content of sub/b.txt"
    assert [r.method for r in manager.api_requests()] == ["POST", "GET"]


@pytest.mark.parametrize("name", ["../evil.txt", "/etc/evil.txt", "a/../../evil.txt"])
def test_tar_extraction_refuses_escapes(tmp_path: Path, name: str) -> None:
    dest = tmp_path / "dest"
    dest.mkdir()
    with pytest.raises(BackendClientError, match="outside"):
        extract_tar_safely(tar_of({name: b"x"}), dest)
    assert not (tmp_path / "evil.txt").exists()


# -- vfolders ------------------------------------------------------------------------------------------------


class StorageProxy:
    """A tus/Range storage-proxy stand-in on its own loopback port, with faults on demand."""

    def __init__(self) -> None:
        self.files: dict[str, bytearray] = {}
        self.sizes: dict[str, int] = {}
        self.requests: list[tuple[str, dict[str, str], int]] = []
        self.break_patch_after: int | None = None  # bytes to keep from the next PATCH before dropping it
        self.download_cuts: list[int] = []  # per GET: bytes to send before dropping (consumed in order)
        self.app = web.Application()
        self.app.router.add_route("HEAD", "/upload", self.head)
        self.app.router.add_route("PATCH", "/upload", self.patch)
        self.app.router.add_route("GET", "/download", self.download)
        self.runner: web.AppRunner | None = None
        self.url = ""

    async def start(self) -> str:
        self.runner = web.AppRunner(self.app)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        host, port = self.runner.addresses[0][:2]
        self.url = f"http://{host}:{port}"
        return self.url

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()

    async def head(self, request: web.Request) -> web.StreamResponse:
        token = request.query["token"]
        self.requests.append(("HEAD", dict(request.headers), 0))
        return web.Response(
            headers={"Upload-Offset": str(len(self.files[token])), "Upload-Length": str(self.sizes[token])}
        )

    async def patch(self, request: web.Request) -> web.StreamResponse:
        token = request.query["token"]
        received = 0
        keep = self.break_patch_after  # total file length at which the network drops
        async for chunk in request.content.iter_any():
            have = len(self.files[token])
            if keep is not None and have + len(chunk) >= keep:
                self.files[token] += chunk[: keep - have]
                self.break_patch_after = None
                self.requests.append(("PATCH-broken", dict(request.headers), keep))
                assert request.transport is not None
                request.transport.abort()  # the network drops mid-body
                return web.Response(status=500)
            self.files[token] += chunk
            received += len(chunk)
        self.requests.append(("PATCH", dict(request.headers), received))
        return web.Response(status=204, headers={"Upload-Offset": str(len(self.files[token]))})

    async def download(self, request: web.Request) -> web.StreamResponse:
        data = bytes(self.files[request.query["token"]])
        self.requests.append(("GET", dict(request.headers), 0))
        start = 0
        rng = request.headers.get("Range")
        if rng and request.headers.get("If-Range") == "Mon, 01 Jan 2024 00:00:00 GMT":
            start = int(rng.removeprefix("bytes=").rstrip("-"))
        headers = {"Last-Modified": "Mon, 01 Jan 2024 00:00:00 GMT", "Content-Length": str(len(data) - start)}
        status = 200
        if start:
            status = 206
            headers["Content-Range"] = f"bytes {start}-{len(data) - 1}/{len(data)}"
        resp = web.StreamResponse(status=status, headers=headers)
        await resp.prepare(request)
        cut = self.download_cuts.pop(0) if self.download_cuts else None
        body = data[start:]
        if cut is not None:
            await resp.write(body[:cut])
            assert request.transport is not None
            request.transport.abort()
            return resp
        await resp.write(body)
        return resp


@pytest.fixture
async def storage() -> AsyncIterator[StorageProxy]:
    proxy = StorageProxy()
    await proxy.start()
    yield proxy
    await proxy.stop()


def add_ticket_routes(manager: FakeManager, storage: StorageProxy, advertised: str) -> None:
    """request-upload/-download tickets that point at ``advertised`` (mapped to the real port)."""

    async def request_upload(request: web.Request) -> web.StreamResponse:
        body = await request.json()
        token = f"tok-{body['path']}"
        storage.files[token] = bytearray()
        storage.sizes[token] = body["size"]
        return web.json_response({"token": token, "url": f"{advertised}/upload"})

    async def request_download(request: web.Request) -> web.StreamResponse:
        body = await request.json()
        return web.json_response({"token": f"tok-{body['path']}", "url": f"{advertised}/download"})

    manager.route("POST", "/folders/{name}/request-upload", request_upload)
    manager.route("POST", "/folders/{name}/request-download", request_download)


async def test_tus_upload_resumes_from_head_offset(
    manager: FakeManager, storage: StorageProxy, tmp_path: Path
) -> None:
    advertised = "http://storage.invalid:6021"
    add_ticket_routes(manager, storage, advertised)
    await manager.start()
    data = bytes(range(256)) * 4096 * 3  # 3 MiB
    source = tmp_path / "data.bin"
    source.write_bytes(data)
    storage.break_patch_after = 1_500_000
    sleep = RecordingSleep()
    progress: list[TransferProgress] = []
    async with make_client(manager, storage_proxy_address_map={advertised: storage.url}) as client:
        folders = VFolders(client, sleep=sleep)
        assert await folders.upload(
            "vf", [source], dst_dir="in", progress=progress.append, chunk_size=1 << 20
        ) == ["in/data.bin"]
    assert bytes(storage.files["tok-in/data.bin"]) == data
    kinds = [r[0] for r in storage.requests]
    assert kinds[:2] == ["PATCH", "PATCH-broken"]
    assert "HEAD" in kinds
    resumed = [r for r in storage.requests if r[0] == "PATCH"][1]
    # resumed at the offset HEAD reported (the broken PATCH kept 1_500_000 - 1 MiB of its bytes)
    assert resumed[1]["Upload-Offset"] == str(1_500_000)
    assert resumed[1]["Tus-Resumable"] == "1.0.0"
    assert len(sleep.delays) == 1
    assert progress[-1] == TransferProgress(done=len(data), total=len(data), path="in/data.bin")


async def test_zero_byte_upload_sends_one_empty_patch(
    manager: FakeManager, storage: StorageProxy, tmp_path: Path
) -> None:
    add_ticket_routes(manager, storage, storage.url)
    await manager.start()
    (tmp_path / "empty").write_bytes(b"")
    async with make_client(manager) as client:
        await client.vfolders.upload("vf", [tmp_path / "empty"])
    assert [(r[0], r[2]) for r in storage.requests] == [("PATCH", 0)]


async def test_ranged_download_resumes_and_renames(
    manager: FakeManager, storage: StorageProxy, tmp_path: Path
) -> None:
    add_ticket_routes(manager, storage, storage.url)
    await manager.start()
    data = bytes(range(256)) * 8192  # 2 MiB
    storage.files["tok-dir/file.bin"] = bytearray(data)
    storage.download_cuts = [700_000]
    async with make_client(manager) as client:
        (path,) = await VFolders(client, sleep=RecordingSleep()).download(
            "vf", ["dir/file.bin"], dest=tmp_path
        )
    assert path == tmp_path / "file.bin"
    assert path.read_bytes() == data
    first, second = (r[1] for r in storage.requests if r[0] == "GET")
    assert "Range" not in first
    # the client asks for what it had received when the server dropped (at most the 700_000 sent)
    start = int(second["Range"].removeprefix("bytes=").removesuffix("-"))
    assert 0 < start <= 700_000
    assert second["If-Range"] == "Mon, 01 Jan 2024 00:00:00 GMT"
    assert not [p for p in os.listdir(tmp_path) if p.endswith(".part")]


async def test_download_gives_up_without_leaving_a_partial_file(
    manager: FakeManager, storage: StorageProxy, tmp_path: Path
) -> None:
    add_ticket_routes(manager, storage, storage.url)
    await manager.start()
    storage.files["tok-f.bin"] = bytearray(b"x" * 100_000)
    storage.download_cuts = [0] * 10  # no progress at all: progress would reset the failure count
    async with make_client(manager) as client:
        folders = VFolders(client, sleep=RecordingSleep(), max_attempts=3)
        with pytest.raises(BackendConnectionError, match="failed 3 times"):
            await folders.download("vf", ["f.bin"], dest=tmp_path)
        (tmp_path / "f.bin").write_text("mine")
        with pytest.raises(BackendClientError, match="overwrite=True"):
            await folders.download("vf", ["f.bin"], dest=tmp_path)
    assert os.listdir(tmp_path) == ["f.bin"]
    assert os.stat(tmp_path / "f.bin").st_size == len("mine")


async def test_vfolder_create_sends_only_given_fields_and_routes(manager: FakeManager) -> None:
    manager.route("POST", "/folders", json_handler({"id": "abc", "name": "vf"}, status=201))
    manager.route("*", "/folders/vf/{tail:.*}", json_handler({}))
    await manager.start()
    async with make_client(manager) as client:
        info = await client.vfolders.create("vf", host="local:volume1")
        await client.vfolders.mkdir("vf", "a/b", parents=True)
        await client.vfolders.rename_file("vf", "a/b", "c")
        await client.vfolders.delete_files("vf", ["a"], recursive=True)
        with pytest.raises(BackendClientError, match="relative path"):
            await client.vfolders.mkdir("vf", "../x")
    assert info.id == "abc"
    assert bodies(manager, "POST", "/folders")[0] == {"name": "vf", "host": "local:volume1"}
    assert [(r.method, r.raw_path) for r in manager.api_requests()][1:] == [
        ("POST", "/folders/vf/mkdir"),
        ("POST", "/folders/vf/rename-file"),
        ("DELETE", "/folders/vf/delete-files"),
    ]


async def test_legacy_v5_vfolder_transfers(manager: FakeManager, tmp_path: Path) -> None:
    uploaded: dict[str, bytes] = {}

    async def upload(request: web.Request) -> web.StreamResponse:
        uploaded.update(await form_parts(request))
        return web.Response(status=201)

    async def download_single(request: web.Request) -> web.StreamResponse:
        return web.Response(body=uploaded[request.query["file"]])

    manager.version = "v5.20191215"
    manager.route("POST", "/folders/vf/upload", upload)
    manager.route("GET", "/folders/vf/download_single", download_single)
    manager.route("POST", "/folders/vf/rename_file", json_handler({}))
    await manager.start()
    (tmp_path / "a.txt").write_text("legacy")
    async with make_client(manager) as client:
        await client.vfolders.upload("vf", [tmp_path / "a.txt"])
        (path,) = await client.vfolders.download("vf", ["a.txt"], dest=tmp_path / "out")
        await client.vfolders.rename_file("vf", "a.txt", "b.txt")
    assert uploaded == {"a.txt": b"legacy"}
    assert path.read_text() == "legacy"
    assert manager.api_requests()[-1].raw_path == "/folders/vf/rename_file"


# -- official-SDK names -----------------------------------------------------------------------------------


async def test_compat_request_fetch_and_kernel_execute(manager: FakeManager) -> None:
    from backendai_jupyter.sdk.compat import AsyncSession, Request

    manager.route("GET", "/folders/_/hosts", json_handler({"default": "h", "allowed": ["h"]}))
    manager.route("POST", "/session/s-1", json_handler({"result": {"runId": "r", "status": "finished"}}))
    await manager.start()
    with pytest.raises(BackendClientError, match="needs an open API session"):
        async with Request("GET", "/folders/_/hosts").fetch():
            pass
    conf = APIConfig(endpoint=str(manager.url), access_key=manager.access_key, secret_key=manager.secret_key)
    async with AsyncSession(config=conf) as api_session:
        async with Request("GET", "/folders/_/hosts").fetch() as resp:
            assert resp.status == 200
            assert (await resp.json())["default"] == "h"
        kern = api_session.Kernel("s-1")
        result = await kern.execute("r", "", mode="continued")  # the docs' spelling of "continue"
        with pytest.raises(BackendClientError, match="not one of"):
            await kern.execute(None, "", mode="complete")
    assert result == {
        "runId": "r",
        "status": "finished",
        "console": [],
        "exitCode": None,
        "options": {},
        "files": [],
    }
    assert bodies(manager, "POST", "/session/s-1") == [{"mode": "continue", "code": "", "runId": "r"}]
