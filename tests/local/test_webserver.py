"""Session mode: /server/login with a cookie, then /func/<path> without signatures."""

from __future__ import annotations

import aiohttp
from manager_helpers import Api

from backendai_jupyter.local.server import LocalEndpointThread


async def test_login_func_and_logout(shared_endpoint: LocalEndpointThread) -> None:
    base = shared_endpoint.url
    # unsafe=True: the jar must keep cookies of an IP-address host (127.0.0.1)
    jar = aiohttp.CookieJar(unsafe=True)
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60), cookie_jar=jar) as http:
        async with http.get(base + "/func/") as resp:
            assert resp.status == 200
            assert (await resp.json())["version"] == "v7.20230615"
        async with http.get(base + "/func/auth/test") as resp:
            assert resp.status == 401
            assert (await resp.json())["type"].endswith("/auth-failed")
        wrong = {"username": shared_endpoint.user_email, "password": "not-it"}
        async with http.post(base + "/server/login", json=wrong) as resp:
            body = await resp.json()
            assert resp.status == 200
            assert body["authenticated"] is False
            assert body["data"]["details"]
        good = {"username": shared_endpoint.user_email, "password": shared_endpoint.user_password}
        async with http.post(base + "/server/login", json=good) as resp:
            body = await resp.json()
            assert body == {
                "authenticated": True,
                "data": {"access_key": shared_endpoint.access_key, "role": "superadmin", "status": "active"},
            }
            assert "AIOHTTP_SESSION" in resp.cookies
            assert resp.headers["X-BackendAI-SessionID"]
        async with http.post(base + "/server/login", json=good) as resp:
            assert resp.status == 400
        async with http.post(base + "/server/login-check") as resp:
            assert (await resp.json())["authenticated"] is True
        headers = {"X-BackendAI-Version": "v7.20230615"}
        create = {"image": "python", "name": "func-sess"}
        async with http.post(base + "/func/session", json=create, headers=headers) as resp:
            assert resp.status == 201, await resp.text()
        run = {"mode": "query", "code": "print(6*7)", "runId": None}
        async with http.post(base + "/func/session/func-sess", json=run, headers=headers) as resp:
            assert (await resp.json())["result"]["console"] == [["stdout", "42\n"]]
        async with http.delete(base + "/func/session/func-sess", headers=headers) as resp:
            assert resp.status == 200
        async with http.post(base + "/server/logout") as resp:
            assert resp.status == 201
        async with http.get(base + "/func/auth/test") as resp:
            assert resp.status == 401


async def test_password_to_keypair(api: Api, shared_endpoint: LocalEndpointThread) -> None:
    body = {
        "type": "keypair",
        "domain": "default",
        "username": shared_endpoint.user_email,
        "password": shared_endpoint.user_password,
    }
    async with api.http.post(api.base + "/auth/authorize", json=body) as resp:
        data = (await resp.json())["data"]
        assert data["access_key"] == shared_endpoint.access_key
        assert data["secret_key"] == shared_endpoint.secret_key
    async with api.http.post(api.base + "/auth/authorize", json={**body, "password": "nope"}) as resp:
        assert resp.status == 401


async def test_manager_status_and_announcement(api: Api) -> None:
    status, body, _ = await api.call("GET", "/manager/status")
    assert status == 200
    assert body["status"] == "running"
    status, body, _ = await api.call("GET", "/manager/announcement")
    assert body == {"enabled": False, "message": ""}
