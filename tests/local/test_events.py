"""The SSE lifecycle stream: 23.09 event names and fields, filters, pings, the v4 stream."""

from __future__ import annotations

import ast
import asyncio
import inspect
import json
import secrets
import uuid
from pathlib import Path
from typing import Any

import aiohttp
from manager_helpers import Api
from wire_samples import EVENT_DATA_KEYS, LIFECYCLE_EVENTS

from backendai_jupyter import wire
from backendai_jupyter.local import registry
from backendai_jupyter.local.config import LocalConfig
from backendai_jupyter.local.endpoint_state import User
from backendai_jupyter.local.eventbus import Event
from backendai_jupyter.local.events import V4_NAMES
from backendai_jupyter.local.server import LocalEndpoint, LocalEndpointThread

WIRE_EVENTS = frozenset(wire.SESSION_EVENTS) | frozenset(wire.KERNEL_EVENTS)


async def read_events(resp: aiohttp.ClientResponse, until: str) -> list[tuple[str, dict[str, Any]]]:
    """Parse SSE events until one named ``until`` (bounded by the client timeout)."""
    events: list[tuple[str, dict[str, Any]]] = []
    name = ""
    async for raw in resp.content:
        line = raw.decode().rstrip("\r\n")
        if line.startswith("event: "):
            name = line[7:]
        elif line.startswith("data: "):
            events.append((name, json.loads(line[6:])))
            if name == until:
                return events
    raise AssertionError(f"stream ended before {until}: {events}")


async def open_stream(api: Api, path: str, params: dict[str, str]) -> aiohttp.ClientResponse:
    url = api.url(path, params)
    resp = await api.http.get(url, headers=api.headers("GET", url))
    assert resp.status == 200, await resp.text()
    assert resp.headers["Content-Type"].startswith("text/event-stream")
    return resp


async def test_lifecycle_events_of_one_session(api: Api) -> None:
    # opened by name before the session exists, as users do
    resp = await open_stream(api, "/events/session", {"name": "events-one"})
    try:
        created = await api.create("events-one", enqueueOnly=True)
        started = await asyncio.wait_for(read_events(resp, "session_started"), 30)
        await api.call("DELETE", "/session/events-one")
        ended = await asyncio.wait_for(read_events(resp, "session_terminated"), 30)
    finally:
        resp.close()
    mine = [(n, d) for n, d in started + ended if d["sessionId"] == created["sessionId"]]
    assert [n for n, _ in mine] == LIFECYCLE_EVENTS
    for name, data in mine:
        assert set(data) >= EVENT_DATA_KEYS
        assert data["sessionName"] == "events-one"
        assert data["ownerAccessKey"] == api.access_key
        if name.startswith("kernel_"):
            assert data["clusterRole"] == "main"
            assert data["clusterIdx"] == 1
            assert data["kernelId"]
    assert mine[-1][1]["reason"] == "user-requested"


async def test_filters_scope_and_session_id(api: Api) -> None:
    other = await api.create("events-other")
    target = await api.create("events-target")
    resp = await open_stream(api, "/events/session", {"sessionId": target["sessionId"], "scope": "session"})
    try:
        await api.call("DELETE", "/session/events-other")
        await api.call("DELETE", "/session/events-target")
        events = await asyncio.wait_for(read_events(resp, "session_terminated"), 30)
    finally:
        resp.close()
    assert {d["sessionId"] for _, d in events} == {target["sessionId"]} != {other["sessionId"]}
    assert all(n.startswith("session_") for n, _ in events)


async def test_bad_parameters(api: Api) -> None:
    status, body, _ = await api.call("GET", "/events/session", params={"owner_access_key": "x"})
    assert status == 400
    assert body["data"] == {"owner_access_key": "owner_access_key is not allowed key"}
    status, body, _ = await api.call("GET", "/events/session", params={"scope": "agent"})
    assert status == 400


async def test_idle_stream_sends_pings(api: Api, shared_endpoint: LocalEndpointThread) -> None:
    registry = shared_endpoint.endpoint.registry
    bus = registry.bus
    old, bus.ping_interval = bus.ping_interval, 0.2
    try:
        resp = await open_stream(api, "/events/session", {})
        try:
            line = await asyncio.wait_for(resp.content.readline(), 10)
            assert line == b": ping\r\n"
        finally:
            resp.close()
    finally:
        bus.ping_interval = old


async def test_v4_kernel_stream(api: Api) -> None:
    resp = await open_stream(api, "/stream/kernel/_/events", {"sessionId": "events-v4"})
    try:
        await api.create("events-v4")
        events = await asyncio.wait_for(read_events(resp, "kernel_started"), 30)
        await api.call("DELETE", "/session/events-v4")
        events += await asyncio.wait_for(read_events(resp, "kernel_terminated"), 30)
    finally:
        resp.close()
    assert [n for n, _ in events] == [
        "kernel_enqueued",
        "kernel_preparing",
        "kernel_creating",
        "kernel_started",
        "kernel_terminating",
        "kernel_terminated",
    ]
    assert events[0][1] == {"sessionId": "events-v4", "ownerAccessKey": api.access_key, "reason": None}


async def lines_until_ping(resp: aiohttp.ClientResponse) -> list[bytes]:
    """Every line the stream sends before its next ``: ping`` (bounded by the client timeout)."""
    lines: list[bytes] = []
    async for raw in resp.content:
        if raw.startswith(b": ping"):
            return lines
        lines.append(raw)
    raise AssertionError(f"stream ended before a ping: {lines}")


async def test_session_id_must_be_a_uuid_but_may_be_unknown(
    api: Api, shared_endpoint: LocalEndpointThread
) -> None:
    status, body, _ = await api.call("GET", "/events/session", params={"sessionId": "by-name"})
    assert status == 400
    assert "sessionId" in body["data"]
    # 23.09 looks nothing up: an id nobody has (yet) is watched, not refused
    bus = shared_endpoint.endpoint.registry.bus
    old, bus.ping_interval = bus.ping_interval, 0.2
    try:
        resp = await open_stream(api, "/events/session", {"sessionId": str(uuid.uuid4()), "scope": "*"})
        try:
            assert await asyncio.wait_for(lines_until_ping(resp), 10) == []
        finally:
            resp.close()
    finally:
        bus.ping_interval = old


async def test_plain_user_sees_only_their_own_sessions(tmp_path: Path, http: aiohttp.ClientSession) -> None:
    # in-process endpoint: the test shares its loop, so it may publish on the bus directly
    async with LocalEndpoint(LocalConfig(data_dir=tmp_path)) as endpoint:
        admin = Api(endpoint.url, endpoint.access_key, endpoint.secret_key, http)
        plain_user = User(
            email="plain@example.com",
            access_key="AKPLAIN" + secrets.token_hex(6).upper(),
            secret_key=secrets.token_urlsafe(30),
            role="user",
            uuid=str(uuid.uuid4()),
        )
        endpoint.registry.ctx.users[plain_user.access_key] = plain_user
        plain = Api(endpoint.url, plain_user.access_key, plain_user.secret_key, http)

        theirs = await admin.create("ev-admins")
        by_id = await open_stream(plain, "/events/session", {"sessionId": theirs["sessionId"]})
        everything = await open_stream(plain, "/events/session", {})
        try:
            await plain.create("ev-plain")
            await admin.call("DELETE", "/session/ev-admins")
            await plain.call("DELETE", "/session/ev-plain")
            seen = await asyncio.wait_for(read_events(everything, "session_terminated"), 30)
            # a probe this user may see, published after every real event: what comes before it leaked
            probe = {"sessionId": theirs["sessionId"], "ownerAccessKey": plain.access_key}
            endpoint.registry.bus.publish(Event("session_probe", probe))
            leaked = await asyncio.wait_for(read_events(by_id, "session_probe"), 10)
        finally:
            by_id.close()
            everything.close()
        assert {d["sessionName"] for _, d in seen} == {"ev-plain"}
        assert leaked == [("session_probe", probe)]
        status, _, _ = await plain.call("GET", "/events/session", params={"ownerAccessKey": admin.access_key})
        assert status == 403


def test_registry_publishes_only_wire_event_names() -> None:
    published: set[str] = set()
    for node in ast.walk(ast.parse(inspect.getsource(registry))):
        if isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "_publish":
            published.update(
                n.value
                for n in ast.walk(node.args[1])
                if isinstance(n, ast.Constant) and isinstance(n.value, str)
            )
    assert set(LIFECYCLE_EVENTS) <= published
    assert published <= WIRE_EVENTS, published - WIRE_EVENTS


def test_v4_renaming_keeps_wire_names_and_statuses() -> None:
    assert set(V4_NAMES) <= WIRE_EVENTS
    for name, v4_name in V4_NAMES.items():
        # the v4 name announces what the 23.09 name does (wire.EVENT_STATUS knows both)
        assert wire.EVENT_STATUS[v4_name] == wire.EVENT_STATUS[name], name
