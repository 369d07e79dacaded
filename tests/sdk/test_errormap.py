"""The one mapping of transport failures: real aiohttp exceptions in, the SDK's errors and messages out."""

from __future__ import annotations

import aiohttp
import pytest
from aiohttp import web
from fakeserver import ClosedPort, FakeManager
from multidict import CIMultiDict, CIMultiDictProxy
from yarl import URL

from backendai_jupyter.sdk._errormap import describe_call, map_transport_error, mask_tokens, unreachable
from backendai_jupyter.sdk.errors import (
    BackendConnectionError,
    BackendTimeoutError,
    NotFoundError,
)

LIMITS = (3.0, 0.0)


async def _failure(url: str) -> BaseException:
    async with aiohttp.ClientSession() as session:
        try:
            await session.get(url)
        except aiohttp.ClientError as exc:
            return exc
    raise AssertionError(f"{url} answered")


def test_describe_call() -> None:
    assert describe_call("GET", "session/s1") == "GET /session/s1"
    assert describe_call("WebSocket", "/stream/x") == "WebSocket /stream/x"
    assert describe_call("POST", "/folders") == "POST /folders"


def test_timeouts_say_which_limit_and_how_to_raise_it() -> None:
    connect = map_transport_error(aiohttp.ConnectionTimeoutError(), call="GET /x", timeout=(3.0, 7.0))
    assert isinstance(connect, BackendTimeoutError)
    assert str(connect).startswith("GET /x timed out after 3 s connecting;")
    read = map_transport_error(aiohttp.ServerTimeoutError(), call="GET /x", timeout=(3.0, 7.5), reading=True)
    assert isinstance(read, BackendTimeoutError)
    assert str(read).startswith("GET /x timed out after 7.5 s waiting for the server;")
    assert "BACKEND_READ_TIMEOUT" in str(read)
    unlimited = map_transport_error(aiohttp.ServerTimeoutError(), call="GET /x", timeout=LIMITS)
    assert "after no limit" in str(unlimited)


def test_refused_websocket_upgrade_is_the_servers_answer() -> None:
    info = aiohttp.RequestInfo(URL("http://h/ws"), "GET", CIMultiDictProxy(CIMultiDict()))
    exc = aiohttp.WSServerHandshakeError(info, (), status=404, message="Not Found")
    mapped = map_transport_error(exc, call="WebSocket /ws", timeout=LIMITS)
    assert isinstance(mapped, NotFoundError)
    assert mapped.status == 404


async def test_tls_failure_names_the_endpoint_and_the_fix(fake_manager: FakeManager) -> None:
    url = await fake_manager.start()
    https = url.with_scheme("https")  # TLS against a plain HTTP server
    exc = await _failure(str(https))
    assert isinstance(exc, aiohttp.ClientSSLError)
    mapped = map_transport_error(exc, call="GET /", timeout=LIMITS, endpoint=https)
    assert isinstance(mapped, BackendConnectionError)
    assert str(mapped).startswith(f"TLS failed for {https}:")
    assert "BACKEND_CA_BUNDLE" in str(mapped)


async def test_generic_and_cut_off_failures() -> None:
    closed = ClosedPort()
    try:
        exc = await _failure(str(closed.url))
    finally:
        closed.close()
    mapped = map_transport_error(exc, call="GET /x", timeout=LIMITS)
    assert isinstance(mapped, BackendConnectionError)
    assert str(mapped).startswith("GET /x failed: Cannot connect to host")
    payload = aiohttp.ClientPayloadError("Response payload is not completed")
    cut = map_transport_error(payload, call="GET /x", timeout=LIMITS, reading=True)
    assert str(cut) == "GET /x: the reply was cut off (Response payload is not completed)"
    # the WebSocket send path hands over a builtin ConnectionError
    reset = map_transport_error(ConnectionResetError("gone"), call="WebSocket /ws", timeout=LIMITS)
    assert str(reset) == "WebSocket /ws failed: gone"


async def test_storage_proxy_failures_mask_the_token(fake_manager: FakeManager) -> None:
    fake_manager.route("GET", "/drop", _drop)
    url = await fake_manager.start()
    target = (url / "drop").with_query(token="secret.ticket", path="a")
    exc = await _failure(str(target))
    mapped = map_transport_error(exc, call="GET /drop", timeout=LIMITS, storage=target)
    assert "secret.ticket" not in str(mapped)
    assert str(mapped).startswith(f"cannot reach the storage proxy at {url / 'drop'}:")
    assert "BACKEND_OVERRIDE_STORAGE_PROXY" in str(mapped)
    leaky = aiohttp.ClientPayloadError(f"broken while reading {target}")
    cut = map_transport_error(leaky, call="GET /drop", timeout=LIMITS, storage=target, reading=True)
    assert "secret.ticket" not in str(cut)
    assert "the reply was cut off" in str(cut)
    assert "BACKEND_OVERRIDE_STORAGE_PROXY" not in str(cut)


async def _drop(request: web.Request) -> web.Response:
    assert request.transport is not None
    request.transport.close()
    return web.Response()


def test_mask_tokens_only_masks_token_parameters() -> None:
    url = URL("http://p/x").with_query(token="abc", upload_token="def", path="abc-path")
    assert mask_tokens("abc def abc-path", url) == "*** *** ***-path"


def test_unreachable_lists_every_endpoint() -> None:
    error = unreachable(["http://a:1", "http://b:2"], ConnectionRefusedError("refused"))
    assert str(error) == (
        "cannot connect to Backend.AI (http://a:1, http://b:2): refused; check BACKEND_ENDPOINT "
        "and that the server is running"
    )


@pytest.mark.parametrize("exc", [aiohttp.ServerDisconnectedError(), aiohttp.ClientOSError(104, "reset")])
def test_lost_connections_are_connection_errors(exc: aiohttp.ClientError) -> None:
    assert isinstance(map_transport_error(exc, call="GET /x", timeout=LIMITS), BackendConnectionError)
