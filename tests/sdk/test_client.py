"""AsyncClient against real aiohttp servers on 127.0.0.1: signing, negotiation, failover, retries, errors."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import ssl
import traceback
from datetime import datetime, timezone
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from fakeserver import ClosedPort, FakeManager, RecordingSleep, make_certificates, problem
from yarl import URL

from backendai_jupyter.sdk import (
    APIConfig,
    AsyncClient,
    AuthenticationError,
    BackendClientError,
    BackendConnectionError,
    BackendTimeoutError,
    ConfigError,
    InvalidAuthParamsError,
    NotFoundError,
    OTPRequiredError,
    RateLimitError,
    ServerError,
)
from backendai_jupyter.sdk.retry import RetryPolicy
from backendai_jupyter.sdk.sse import iter_sse


def make_client(server: FakeManager, **overrides: object) -> AsyncClient:
    sleep = overrides.pop("sleep", RecordingSleep())
    endpoint = str(overrides.pop("endpoint", server.url))
    conf = APIConfig(
        endpoint=endpoint,
        access_key=server.access_key,
        secret_key=server.secret_key,
        version="v8.20240315",
        **overrides,  # type: ignore[arg-type]
    )
    return AsyncClient(conf, sleep=sleep)  # type: ignore[arg-type]


async def echo(request: web.Request) -> web.Response:
    body = await request.read()
    return web.json_response(
        {"path": request.raw_path, "body": body.decode(), "query": dict(request.query)},
        headers={"X-RateLimit-Limit": "1000", "X-RateLimit-Remaining": "998", "X-RateLimit-Window": "900"},
    )


async def test_signed_requests_verify_on_the_server(fake_manager: FakeManager) -> None:
    fake_manager.route("*", "/{tail:.*}", echo)
    await fake_manager.start()
    async with make_client(fake_manager) as client:
        r1 = await client.request("GET", "/session/mysess", params={"owner_access_key": "AK2", "all": True})
        r2 = await client.request("POST", "session", json={"image": "python", "name": "x y"})
        r3 = await client.request("GET", "/folders/x y/files", params={"path": "a b+c/*"})
        r4 = await client.request("GET", "/folders/already%20quoted/files")
        await client.request("POST", "/session/s1/interrupt")
        r6 = await client.request("PUT", "/raw", data=b"\x00\x01", headers={"Content-Type": "text/yaml"})
    assert r1.json()["query"] == {"owner_access_key": "AK2", "all": "true"}
    assert r2.json()["body"] == '{"image": "python", "name": "x y"}'
    assert r3.json()["path"] == "/folders/x%20y/files?path=a+b%2Bc/*"
    assert r4.json()["path"] == "/folders/already%20quoted/files"
    assert r6.json()["body"] == "\x00\x01"
    seen = fake_manager.api_requests()
    assert [s.signature_ok for s in seen] == [True] * 6
    types = [s.headers.get("Content-Type") for s in seen]
    assert types == ["text/plain", "application/json", "text/plain", "text/plain", "text/plain", "text/yaml"]
    for s in seen:
        assert s.headers["X-BackendAI-Version"] == "v7.20230615"  # min(server v7, client v8)
        assert s.headers["X-BackendAI-Domain"] == "default"
        assert s.headers["User-Agent"].startswith("backendai-jupyter/")
        assert datetime.fromisoformat(s.headers["Date"]).tzinfo is not None
    assert r1.rate_limit.limit == 1000
    assert r1.rate_limit.remaining == 998
    assert r1.rate_limit.window == 900


async def test_endpoint_path_prefix_is_kept(clean_env: None) -> None:
    server = FakeManager(prefix="/gateway")
    server.route("GET", "/auth/test", echo)
    await server.start()
    try:
        async with make_client(server) as client:
            reply = await client.request("GET", "auth/test", params={"echo": "hi"})
        assert reply.json()["path"] == "/gateway/auth/test?echo=hi"
        assert server.api_requests()[0].signature_ok is True
    finally:
        await server.stop()


async def test_negotiation_once_without_version_header(fake_manager: FakeManager) -> None:
    fake_manager.version = "v7.20230615"
    fake_manager.route("GET", "/ping", echo)
    await fake_manager.start()
    async with make_client(fake_manager) as client:
        assert client.api_version == "v8.20240315"  # configured, before negotiation
        await asyncio.gather(client.request("GET", "/ping"), client.request("GET", "/ping"))
        assert client.api_version == "v7.20230615"
        assert client.api_version_tuple == (7, "20230615")
        assert client.manager_version == "23.09.10"
        assert await client.negotiate() == "v7.20230615"
    probes = [s for s in fake_manager.seen if s.raw_path == "/"]
    assert len(probes) == 1
    assert "X-BackendAI-Version" not in probes[0].headers
    assert "Authorization" not in probes[0].headers


async def test_negotiation_keeps_older_client_version(fake_manager: FakeManager) -> None:
    fake_manager.version = "v8.20240915"
    await fake_manager.start()
    async with make_client(fake_manager) as client:
        assert await client.negotiate() == "v8.20240315"


async def test_negotiation_falls_back_on_error(fake_manager: FakeManager) -> None:
    fake_manager.probe_status = 500
    fake_manager.route("GET", "/ping", echo)
    await fake_manager.start()
    async with make_client(fake_manager) as client:
        await client.request("GET", "/ping")
        assert client.api_version == "v8.20240315"
        assert client.manager_version is None
    assert fake_manager.api_requests()[0].headers["X-BackendAI-Version"] == "v8.20240315"


async def test_failover_to_next_endpoint_and_resign(fake_manager: FakeManager) -> None:
    fake_manager.route("*", "/{tail:.*}", echo)
    await fake_manager.start()
    closed = ClosedPort()
    sleep = RecordingSleep()
    try:
        client = make_client(fake_manager, endpoint=f"{closed.url},{fake_manager.url}", sleep=sleep)
        async with client:
            # POST is not idempotent, but a refused connection never reached a server.
            reply = await client.request("POST", "/session", json={"name": "s"})
            assert reply.status == 200
            assert client.endpoint == fake_manager.url
            await client.request("GET", "/again")
    finally:
        closed.close()
    assert sleep.delays == []  # failover is immediate; no backoff
    seen = fake_manager.api_requests()
    assert [s.signature_ok for s in seen] == [True, True]
    assert seen[0].headers["Host"] == fake_manager.url.raw_authority


async def test_all_endpoints_down(clean_env: None) -> None:
    a, b = ClosedPort(), ClosedPort()
    sleep = RecordingSleep()
    secret = "never-shown-secret"
    conf = APIConfig(
        endpoint=f"{a.url},{b.url}", access_key="AK", secret_key=secret, retry=RetryPolicy(max_retries=2)
    )
    try:
        async with AsyncClient(conf, sleep=sleep) as client:
            with pytest.raises(BackendConnectionError) as info:
                await client.request("POST", "/session", json={})
    finally:
        a.close()
        b.close()
    message = str(info.value)
    assert str(a.url) in message
    assert str(b.url) in message
    assert "BACKEND_ENDPOINT" in message
    assert secret not in message
    # The probe does not retry; the request does (nothing was sent, so even POST may), with backoff.
    assert len(sleep.delays) == 2


async def test_retry_503_with_retry_after_for_get_only(fake_manager: FakeManager) -> None:
    hits = {"GET": 0, "POST": 0}

    async def flaky(request: web.Request) -> web.Response:
        hits[request.method] += 1
        if request.method == "GET" and hits["GET"] <= 2:
            return web.Response(status=503, headers={"Retry-After": "3"}, text="busy")
        if request.method == "POST":
            return web.Response(status=503, headers={"Retry-After": "3"}, text="busy")
        return web.json_response({"ok": True})

    fake_manager.route("*", "/flaky", flaky)
    await fake_manager.start()
    sleep = RecordingSleep()
    async with make_client(fake_manager, sleep=sleep) as client:
        assert (await client.request("GET", "/flaky")).json() == {"ok": True}
        assert sleep.delays == [3.0, 3.0]
        with pytest.raises(ServerError) as info:
            await client.request("POST", "/flaky", json={"mode": "query"})
        assert info.value.status == 503
        assert sleep.delays == [3.0, 3.0]
        # Declared idempotent: retried like a GET.
        with pytest.raises(ServerError):
            await client.request("POST", "/flaky", json={}, idempotent=True)
    assert hits == {"GET": 3, "POST": 1 + 3}
    assert len(sleep.delays) == 4


async def test_retry_after_http_date_and_exhaustion(fake_manager: FakeManager) -> None:
    now = 1_700_000_000.0
    when = format_datetime(datetime.fromtimestamp(now + 5, tz=timezone.utc), usegmt=True)

    async def limited(request: web.Request) -> web.Response:
        return problem(429, "rate-limit-exceeded", "Rate limit exceeded.")

    async def limited_with_date(request: web.Request) -> web.Response:
        resp = problem(429, "rate-limit-exceeded", "Rate limit exceeded.")
        resp.headers["Retry-After"] = when
        return resp

    fake_manager.route("GET", "/limited", limited)
    fake_manager.route("GET", "/dated", limited_with_date)
    await fake_manager.start()
    sleep = RecordingSleep()
    conf = APIConfig(
        endpoint=str(fake_manager.url),
        access_key=fake_manager.access_key,
        secret_key=fake_manager.secret_key,
        retry=RetryPolicy(max_retries=3, initial_delay=0.5, jitter=0.0),
    )
    async with AsyncClient(conf, sleep=sleep, clock=lambda: now) as client:
        with pytest.raises(RateLimitError) as info:
            await client.request("GET", "/limited")
        assert sleep.delays == [0.5, 1.0, 2.0]
        assert str(info.value) == "429 Too Many Requests: Rate limit exceeded. (rate-limit-exceeded)"
        sleep.delays.clear()
        with pytest.raises(RateLimitError):
            await client.request("GET", "/dated")
        assert sleep.delays == [5.0, 5.0, 5.0]


async def test_problem_json_and_plain_errors(fake_manager: FakeManager) -> None:
    async def missing(request: web.Request) -> web.Response:
        return problem(404, "object-not-found", "No such session.")

    async def skew(request: web.Request) -> web.Response:
        return problem(
            400,
            "invalid-auth-params",
            "Missing or invalid authorization parameters.",
            msg="Date/time sync error",
        )

    async def proxy_down(request: web.Request) -> web.Response:
        return web.Response(status=502, text="<html>bad gateway</html>", content_type="text/html")

    fake_manager.route("GET", "/session/nope", missing)
    fake_manager.route("GET", "/skew", skew)
    fake_manager.route("POST", "/down", proxy_down)
    await fake_manager.start()
    async with make_client(fake_manager) as client:
        with pytest.raises(NotFoundError) as nf:
            await client.request("GET", "/session/nope")
        assert str(nf.value) == "404 Not Found: No such session. (object-not-found)"
        with pytest.raises(InvalidAuthParamsError, match="Date/time sync error"):
            await client.request("GET", "/skew")
        with pytest.raises(ServerError) as down:
            await client.request("POST", "/down")
        assert down.value.data["content"] == "<html>bad gateway</html>"
        with pytest.raises(NotFoundError):
            await client.request("GET", "/no/route/here")  # aiohttp's plain 404


async def test_wrong_secret_is_an_authentication_error(fake_manager: FakeManager) -> None:
    fake_manager.route("GET", "/ping", echo)
    await fake_manager.start()
    conf = APIConfig(endpoint=str(fake_manager.url), access_key=fake_manager.access_key, secret_key="wrong")
    async with AsyncClient(conf) as client:
        with pytest.raises(AuthenticationError, match="Signature mismatch"):
            await client.request("GET", "/ping")


async def test_anonymous_and_missing_secret(fake_manager: FakeManager) -> None:
    fake_manager.route("GET", "/manager/status", echo)
    await fake_manager.start()
    async with make_client(fake_manager) as client:
        await client.request("GET", "/manager/status", anonymous=True)
    seen = fake_manager.api_requests()[-1]
    assert "Authorization" not in seen.headers
    assert seen.headers["X-BackendAI-Version"] == "v7.20230615"
    assert seen.headers["Date"]
    conf = APIConfig(endpoint=str(fake_manager.url), access_key="AK")
    async with AsyncClient(conf) as client:
        with pytest.raises(ConfigError, match="BACKEND_SECRET_KEY"):
            await client.request("GET", "/manager/status")


async def test_read_timeout_names_the_call_and_the_fix(fake_manager: FakeManager) -> None:
    release = asyncio.Event()

    async def slow(request: web.Request) -> web.Response:
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(release.wait(), timeout=10)
        return web.json_response({})

    fake_manager.route("GET", "/slow", slow)
    await fake_manager.start()
    async with make_client(fake_manager) as client:
        await client.negotiate()
        with pytest.raises(BackendTimeoutError) as info:
            await client.request("GET", "/slow", timeout=(5, 0.2))
    release.set()
    message = str(info.value)
    assert message.startswith("GET /slow timed out after 0.2 s waiting for the server")
    assert "BACKEND_READ_TIMEOUT" in message
    assert "0 = no limit" in message


async def test_stream_sse_signs_octet_stream(fake_manager: FakeManager) -> None:
    async def events(request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await resp.prepare(request)
        await resp.write(b'event: session_started\r\ndata: {"sessionName": "s"}\r\n\r\n')
        await resp.write(b"event: server_close\r\ndata: {}\r\n\r\n")
        await resp.write_eof()
        return resp

    fake_manager.route("GET", "/events/session", events)
    await fake_manager.start()
    async with (
        make_client(fake_manager) as client,
        client.stream("GET", "/events/session", params={"sessionName": "s"}) as resp,
    ):
        names = [e.event async for e in iter_sse(resp)]
    assert names == ["session_started", "server_close"]
    seen = fake_manager.api_requests()[0]
    assert "Content-Type" not in seen.headers
    assert seen.signature_ok is True


async def test_stream_raises_before_yielding(fake_manager: FakeManager) -> None:
    async def gone(request: web.Request) -> web.Response:
        return problem(404, "object-not-found", "No such session.")

    fake_manager.route("GET", "/events/session", gone)
    await fake_manager.start()
    async with make_client(fake_manager) as client:
        with pytest.raises(NotFoundError):
            async with client.stream("GET", "/events/session"):
                pytest.fail("must not yield on an error status")


async def test_websocket_is_signed_and_fails_over(fake_manager: FakeManager) -> None:
    async def ws_echo(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        async for msg in ws:
            await ws.send_str("echo:" + msg.data)
            break
        await ws.close()
        return ws

    fake_manager.route("GET", "/stream/session/s1/execute", ws_echo)
    await fake_manager.start()
    closed = ClosedPort()
    try:
        async with make_client(fake_manager, endpoint=f"{closed.url},{fake_manager.url}") as client:
            ws = await client.ws_connect("/stream/session/s1/execute")
            await ws.send_str('{"code": "1"}')
            reply = await ws.receive(timeout=5)
            await ws.close()
    finally:
        closed.close()
    assert reply.data == 'echo:{"code": "1"}'
    seen = fake_manager.api_requests()[0]
    assert seen.signature_ok is True
    assert "Content-Type" not in seen.headers


async def test_raw_is_unsigned_and_mapped(fake_manager: FakeManager) -> None:
    async def upload(request: web.Request) -> web.Response:
        if request.method == "HEAD":
            return web.Response(headers={"Upload-Offset": "5"})
        return problem(404, "storage/no-such-upload-session", "No such upload session.")

    fake_manager.route("*", "/storage/upload", upload)
    await fake_manager.start()
    advertised = "http://10.255.255.1:6021"  # unroutable: only the address map makes it reachable
    conf = APIConfig(
        endpoint=str(fake_manager.url),
        access_key=fake_manager.access_key,
        secret_key=fake_manager.secret_key,
        storage_proxy_address_map={advertised: str(fake_manager.url / "storage")},
    )
    async with AsyncClient(conf) as client:
        async with client.raw("HEAD", advertised + "/upload", params={"token": "t.o.k"}) as resp:
            assert resp.headers["Upload-Offset"] == "5"
        async with client.raw("PATCH", URL(advertised + "/upload?token=x"), data=b"abc", check=False) as resp:
            assert resp.status == 404
        with pytest.raises(NotFoundError, match="no-such-upload-session"):
            async with client.raw("PATCH", advertised + "/upload", data=b"abc"):
                pass
    seen = fake_manager.seen
    assert seen[0].raw_path == "/storage/upload?token=t.o.k"
    assert all("Authorization" not in s.headers for s in seen)


async def test_raw_errors_never_show_the_storage_token() -> None:
    # a storage proxy that answers garbage: aiohttp's error text quotes the whole URL, token included
    async def garbage(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"NOT HTTP AT ALL\r\n\r\n")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(garbage, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    token = "secret-ticket.payload.signature"
    conf = APIConfig(endpoint="http://127.0.0.1:9", access_key="AK", secret_key="SK")  # never contacted
    try:
        async with AsyncClient(conf) as c:
            with pytest.raises(BackendConnectionError) as caught:
                async with c.raw("GET", f"http://127.0.0.1:{port}/download", params={"token": token}):
                    pass
    finally:
        server.close()
        await server.wait_closed()
    assert token not in "".join(traceback.format_exception(caught.value))
    assert f"127.0.0.1:{port}/download" in str(caught.value)


async def test_session_mode_login_cookie_func_prefix_logout(fake_manager: FakeManager) -> None:
    sessions: set[str] = set()

    async def login(request: web.Request) -> web.Response:
        body = await request.json()
        if body["password"] != "pw":
            return web.json_response(
                {
                    "authenticated": False,
                    "data": {
                        "type": "https://api.backend.ai/probs/auth-failed",
                        "title": "Credential/signature mismatch.",
                        "details": "User credential mismatch.",
                    },
                }
            )
        if body.get("otp") != "123456":
            return web.json_response({"authenticated": False, "data": {"details": "OTP not provided"}})
        resp = web.json_response({"authenticated": True, "data": {"access_key": "AK", "role": "user"}})
        sessions.add("sid-1")
        resp.set_cookie("AIOHTTP_SESSION", "sid-1", httponly=True)
        return resp

    async def logout(request: web.Request) -> web.Response:
        sessions.discard(request.cookies.get("AIOHTTP_SESSION", ""))
        resp = web.Response(status=201)
        resp.del_cookie("AIOHTTP_SESSION")
        return resp

    async def func(request: web.Request) -> web.Response:
        if request.cookies.get("AIOHTTP_SESSION") not in sessions:
            return problem(401, "auth-failed", "Unauthorized access")
        return web.json_response({"path": request.raw_path})

    async def probe(request: web.Request) -> web.Response:
        return web.json_response({"version": "v8.20240315", "manager": "24.03.11"})

    fake_manager.route("POST", "/server/login", login)
    fake_manager.route("POST", "/server/logout", logout)
    fake_manager.route("GET", "/func/", probe)
    fake_manager.route("*", "/func/{tail:.+}", func)
    await fake_manager.start()
    prompts: list[int] = []

    async def otp_prompt() -> str:
        prompts.append(1)
        return "123456"

    conf = APIConfig(endpoint=str(fake_manager.url), endpoint_type="session")
    async with AsyncClient(conf, otp_prompt=otp_prompt) as client:
        with pytest.raises(AuthenticationError) as bad:
            await client.auth.login("user@example.com", "wrong")
        assert str(bad.value) == (
            "401 Unauthorized: Credential/signature mismatch. - User credential mismatch. (auth-failed)"
        )
        assert "wrong" not in str(bad.value)
        info = await client.auth.login("user@example.com", "pw")
        assert info == {"access_key": "AK", "role": "user"}
        assert prompts == [1]
        assert client.api_version == "v8.20240315"
        reply = await client.request("GET", "/folders", params={"x": 1})
        assert reply.json() == {"path": "/func/folders?x=1"}
        await client.auth.logout()
        with pytest.raises(AuthenticationError, match="Unauthorized access"):
            await client.request("GET", "/folders")
    assert all("Authorization" not in s.headers for s in fake_manager.seen)
    assert [s.raw_path for s in fake_manager.seen][:2] == ["/func/", "/server/login"]

    async with AsyncClient(conf) as client:
        with pytest.raises(OTPRequiredError):
            await client.auth.login("user@example.com", "pw")


async def test_login_needs_session_mode(clean_env: None) -> None:
    async with AsyncClient(APIConfig(endpoint="http://127.0.0.1:9")) as client:
        with pytest.raises(ConfigError, match="BACKEND_ENDPOINT_TYPE=session"):
            await client.auth.login("u", "p")


async def test_bad_json_reply_is_a_client_error(fake_manager: FakeManager) -> None:
    async def text(request: web.Request) -> web.Response:
        return web.Response(text="not json")

    fake_manager.route("GET", "/text", text)
    await fake_manager.start()
    async with make_client(fake_manager) as client:
        reply = await client.request("GET", "/text")
    assert reply.text() == "not json"
    with pytest.raises(BackendClientError, match="expected JSON from /text"):
        reply.json()


def test_client_session_is_created_lazily(clean_env: None) -> None:
    # Constructing outside any event loop must work (the sync facade does this).
    client = AsyncClient(APIConfig(endpoint="http://127.0.0.1:9"))
    assert client._session is None


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command to make certificates")
async def test_tls_ca_bundle_client_cert_and_skip(clean_env: None, tmp_path: Path) -> None:
    certs = make_certificates(tmp_path)
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH, cafile=str(certs["ca_pem"]))
    server_ctx.load_cert_chain(str(certs["server_pem"]), str(certs["server_key"]))
    server_ctx.verify_mode = ssl.CERT_REQUIRED  # mutual TLS: the client must present its certificate
    server = FakeManager(ssl_context=server_ctx)
    server.route("GET", "/ping", echo)
    url = await server.start()
    base: dict[str, Any] = {
        "endpoint": str(url),
        "access_key": server.access_key,
        "secret_key": server.secret_key,
    }
    client_cert = (certs["client_pem"], certs["client_key"])
    try:
        conf = APIConfig(**base, ca_bundle=certs["ca_pem"], client_cert=client_cert)
        async with AsyncClient(conf) as client:
            assert (await client.request("GET", "/ping")).status == 200
        assert server.api_requests()[-1].signature_ok is True

        async with AsyncClient(APIConfig(**base, client_cert=client_cert)) as client:
            with pytest.raises(BackendConnectionError, match="BACKEND_CA_BUNDLE"):
                await client.request("GET", "/ping")

        sleep = RecordingSleep()
        async with AsyncClient(APIConfig(**base, ca_bundle=certs["ca_pem"]), sleep=sleep) as client:
            with pytest.raises(BackendConnectionError):  # the server insists on a client certificate
                await client.request("GET", "/ping")

        conf = APIConfig(**base, skip_sslcert_validation=True, client_cert=client_cert)
        async with AsyncClient(conf) as client:
            assert (await client.request("GET", "/ping")).status == 200
    finally:
        await server.stop()
