"""HMAC verification, version header, rate limits and the manager's problem+json bodies."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from manager_helpers import Api, make_endpoint, sign

from backendai_jupyter.local.auth import problem_middleware
from backendai_jupyter.local.problems import Problem
from backendai_jupyter.local.signing import Authenticator, sign_string


def test_signature_matches_the_protocol_test_vector() -> None:
    date_raw = "2024-01-02T03:04:05+00:00"
    expected = "545a37e15be82e18c738b885ead67e1418a0e978e4f0cf8499a6df14d8d29ced"
    server = sign_string(
        "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        method="GET",
        raw_path="/session/mysess?owner_access_key=AK2",
        date_raw=date_raw,
        date=datetime.fromisoformat(date_raw),
        host="127.0.0.1:8081",
        content_type="text/plain",
        version="v7.20230615",
    )
    client = sign(
        "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        method="GET",
        raw_path="/session/mysess?owner_access_key=AK2",
        date=date_raw,
        host="127.0.0.1:8081",
        content_type="text/plain",
        version="v7.20230615",
    )
    assert server == client == expected


async def test_version_probe_is_anonymous(api: Api) -> None:
    async with api.http.get(api.base + "/") as resp:
        assert resp.status == 200
        assert await resp.json() == {"version": "v7.20230615", "manager": "23.09.10"}
        assert resp.headers["Server"] == "BackendAI"
        assert resp.headers["X-RateLimit-Limit"] == "1000"


async def test_signed_call_has_rate_limit_headers(api: Api) -> None:
    status, body, resp = await api.call("GET", "/auth/test", params={"echo": "a b+c"})
    assert status == 200
    assert body == {"authorized": "yes", "echo": "a b+c"}
    assert resp.headers["X-RateLimit-Window"] == "900"
    assert int(resp.headers["X-RateLimit-Remaining"]) < int(resp.headers["X-RateLimit-Limit"])


async def test_rejections(api: Api) -> None:
    url = api.url("/auth/test")
    cases: list[tuple[dict[str, str], int, str, str]] = []
    good = api.headers("GET", url)
    cases.append(({**good, "X-BackendAI-Version": "v9.20990101"}, 400, "generic-bad-request", "Unsupported"))
    cases.append(
        ({k: v for k, v in good.items() if k != "Authorization"}, 401, "auth-failed", "Unauthorized")
    )
    cases.append(({"X-BackendAI-Version": "v7.20230615"}, 400, "invalid-auth-params", "Date/time"))
    old = (datetime.now(timezone.utc) - timedelta(minutes=16)).isoformat()
    cases.append((api.headers("GET", url, date=old), 400, "invalid-auth-params", "Date/time"))
    sig_bad = good["Authorization"][:-4] + "0000"
    cases.append(({**good, "Authorization": sig_bad}, 401, "auth-failed", "Signature mismatch"))
    unknown = good["Authorization"].replace(api.access_key, "AKIANOSUCHKEY0000000")
    cases.append(({**good, "Authorization": unknown}, 401, "auth-failed", "Access key not found"))
    cases.append(({**good, "Authorization": "Bearer abc"}, 400, "invalid-auth-params", "type name"))
    cases.append(
        ({**good, "Authorization": "BackendAI signMethod=HMAC-SHA256"}, 400, "invalid-auth-params", "Missing")
    )
    for headers, status, kind, text in cases:
        async with api.http.get(url, headers=headers) as resp:
            body = await resp.json(content_type=None)
            assert (resp.status, body["type"].rsplit("/", 1)[1]) == (status, kind), body
            assert text in body.get("msg", ""), body
            assert resp.headers["Content-Type"].startswith("application/problem+json")
            assert "X-RateLimit-Limit" not in resp.headers
    # 14 minutes off is still inside the window
    near = (datetime.now(timezone.utc) - timedelta(minutes=14)).isoformat()
    async with api.http.get(url, headers=api.headers("GET", url, date=near)) as resp:
        assert resp.status == 200


async def test_host_and_path_are_signed_exactly(api: Api) -> None:
    url = api.url("/auth/test", {"echo": "x"})
    headers = api.headers("GET", api.url("/auth/test", {"echo": "y"}))
    async with api.http.get(url, headers=headers) as resp:
        assert resp.status == 401
    headers = api.headers("GET", url)
    async with api.http.get(url, headers={**headers, "Host": "localhost:1"}) as resp:
        assert resp.status == 401


async def test_unknown_url_and_method(api: Api) -> None:
    status, body, _ = await api.call("GET", "/no/such/path")
    assert status == 404
    assert body["type"].endswith("/url-not-found")
    assert body["title"] == "Unknown URL path."
    status, body, _ = await api.call("PUT", "/manager/status")
    assert status == 405
    assert body["type"].endswith("/method-not-allowed")


async def test_rate_limit_exceeded(tmp_path: Path, http: aiohttp.ClientSession) -> None:
    endpoint = make_endpoint(tmp_path, rate_limit=3)
    try:
        api = Api(endpoint.url, endpoint.access_key, endpoint.secret_key, http)
        remaining = [
            int((await api.call("GET", "/auth/test"))[2].headers["X-RateLimit-Remaining"]) for _ in range(3)
        ]
        assert remaining == [2, 1, 0]
        status, body, _ = await api.call("GET", "/auth/test")
        assert status == 429
        assert body["type"].endswith("/rate-limit-exceeded")
    finally:
        endpoint.stop()


def test_rate_window_rolls_with_an_injected_clock() -> None:
    now = [1000.0]
    authenticator = Authenticator(rate_limit=2, clock=lambda: now[0])
    assert [authenticator.count("AK"), authenticator.count("AK")] == [1, 0]
    with pytest.raises(Problem, match="429"):
        authenticator.count("AK")
    now[0] += 901
    assert authenticator.count("AK") == 1


async def test_unexpected_errors_become_500_without_traceback() -> None:
    async def boom(request: web.Request) -> web.Response:
        raise RuntimeError("secret internals")

    app = web.Application(middlewares=[problem_middleware])
    app.router.add_get("/boom", boom)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        port = runner.addresses[0][1]
        async with aiohttp.ClientSession() as http, http.get(f"http://127.0.0.1:{port}/boom") as resp:
            text = await resp.text()
            assert resp.status == 500
            assert "internal-server-error" in text
            assert "secret internals" not in text
            assert "Traceback" not in text
    finally:
        await runner.cleanup()
