"""Transport failures through the real client: cut-off bodies, dropped upgrades and closed sockets.

Each failure here once escaped as a raw aiohttp exception (callers catch ``BackendError``), or failed
over in one path but not in another.
"""

from __future__ import annotations

import asyncio
import traceback

import aiohttp
import pytest
from aiohttp import web
from fakeserver import FakeManager

from backendai_jupyter.sdk import APIConfig, AsyncClient, BackendConnectionError

PARTIAL = b'event: session_started\ndata: {"sessionName": "s"}\n\n'


def client_for(*servers: FakeManager) -> AsyncClient:
    first = servers[0]
    conf = APIConfig(
        endpoint=",".join(str(s.url) for s in servers),
        access_key=first.access_key,
        secret_key=first.secret_key,
        storage_proxy_address_map={"http://storage.invalid:6021": str(first.url / "storage")},
    )
    return AsyncClient(conf)


async def cut_off(request: web.Request) -> web.StreamResponse:
    """Promise 10 kB, send one event, hang up."""
    resp = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
    resp.content_length = 10_000
    await resp.prepare(request)
    await resp.write(PARTIAL)
    assert request.transport is not None
    request.transport.close()
    return resp


async def hang_up(request: web.Request) -> web.Response:
    assert request.transport is not None
    request.transport.close()
    await asyncio.sleep(1)
    return web.Response()


async def test_stream_body_cut_off_is_a_connection_error(fake_manager: FakeManager) -> None:
    fake_manager.route("GET", "/download", cut_off)
    await fake_manager.start()
    async with client_for(fake_manager) as client:
        with pytest.raises(BackendConnectionError, match=r"^GET /download: the reply was cut off"):
            async with client.stream("GET", "/download") as resp:
                await resp.read()


async def test_storage_body_cut_off_is_a_connection_error_without_the_token(
    fake_manager: FakeManager,
) -> None:
    fake_manager.route("GET", "/storage/download", cut_off)
    await fake_manager.start()
    token = "secret-ticket.payload.signature"
    async with client_for(fake_manager) as client:
        with pytest.raises(BackendConnectionError, match="the reply was cut off") as caught:
            async with client.raw(
                "GET", "http://storage.invalid:6021/download", params={"token": token}
            ) as r:
                await r.read()
    assert token not in "".join(traceback.format_exception(caught.value))


async def test_event_stream_cut_off_is_a_connection_error(fake_manager: FakeManager) -> None:
    fake_manager.route("GET", "/events/session", cut_off)
    await fake_manager.start()
    async with client_for(fake_manager) as client, client.events.session(session_name="s") as stream:
        first = await stream.__anext__()
        assert first.name == "session_started"
        with pytest.raises(BackendConnectionError, match=r"^GET /events/session: the reply was cut off"):
            await stream.__anext__()


async def ws_closes_at_once(request: web.Request) -> web.WebSocketResponse:
    ws = web.WebSocketResponse()
    await ws.prepare(request)
    await ws.close()
    return ws


async def test_sending_on_a_closed_execute_stream_is_a_connection_error(fake_manager: FakeManager) -> None:
    fake_manager.version = "v8.20240315"
    fake_manager.route("GET", "/stream/session/s1/execute", ws_closes_at_once)
    await fake_manager.start()
    async with client_for(fake_manager) as client:
        stream = client.sessions.stream("s1", "input()")
        await stream.open()
        with pytest.raises(BackendConnectionError, match="closed before the run finished"):
            await stream.__anext__()
        with pytest.raises(BackendConnectionError, match=r"^WebSocket /stream/session/s1/execute failed"):
            await stream.send_input("answer")


async def test_websocket_fails_over_when_an_endpoint_hangs_up(clean_env: None) -> None:
    broken, good = FakeManager(), FakeManager()
    broken.route("GET", "/stream/session/s1/execute", hang_up)
    good.route("GET", "/stream/session/s1/execute", ws_closes_at_once)
    await broken.start()
    await good.start()
    try:
        async with client_for(broken, good) as client:
            await client.negotiate()  # answered by the first endpoint
            assert client.endpoint == broken.url
            ws = await client.ws_connect("/stream/session/s1/execute")
            await ws.close()
            assert client.endpoint == good.url
    finally:
        await broken.stop()
        await good.stop()
    assert good.api_requests()[0].signature_ok is True


async def test_reply_errors_inside_a_stream_are_not_called_transport_failures(
    fake_manager: FakeManager,
) -> None:
    async def text(request: web.Request) -> web.Response:
        return web.Response(text="not json")

    fake_manager.route("GET", "/text", text)
    await fake_manager.start()
    async with client_for(fake_manager) as client:
        with pytest.raises(aiohttp.ContentTypeError):
            async with client.stream("GET", "/text") as resp:
                await resp.json()
