"""The SSE parser (pure, incremental) and the async iterator over a real streaming response."""

from __future__ import annotations

import aiohttp
import pytest
from aiohttp import web

from backendai_jupyter.sdk.sse import SSEEvent, SSEParser, iter_sse

STREAM = (
    ": ping\r\n"
    "event: session_started\r\n"
    'data: {"sessionId": "u1"}\r\n'
    "\r\n"
    "id: 7\n"
    "retry: 5000\n"
    "data: line one\n"
    "data:line two\n"
    "\n"
    "event: empty\n"
    "\n"
    "data\r"
    "\r"
)

EXPECTED = [
    SSEEvent(event="session_started", data='{"sessionId": "u1"}', id=None, retry=None),
    SSEEvent(event="message", data="line one\nline two", id="7", retry=5000),
    SSEEvent(event="message", data="", id="7", retry=5000),
]


def test_whole_stream() -> None:
    assert SSEParser().feed(STREAM) == EXPECTED


@pytest.mark.parametrize("size", [1, 2, 3, 7, 64])
def test_split_anywhere(size: int) -> None:
    parser = SSEParser()
    events = []
    for i in range(0, len(STREAM), size):
        events += parser.feed(STREAM[i : i + size])
    assert events == EXPECTED
    assert parser.last_event_id == "7"
    assert parser.retry == 5000


def test_incomplete_event_is_not_dispatched_and_bad_retry_ignored() -> None:
    parser = SSEParser()
    assert parser.feed("retry: soon\ndata: x") == []
    assert parser.retry is None
    assert parser.feed("\n\n") == [SSEEvent(data="x")]
    assert SSEEvent(data='{"a": 1}').json() == {"a": 1}


async def test_iter_sse_over_http() -> None:
    async def handler(request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await resp.prepare(request)
        payload = (
            "event: a\r\ndata: h\u00e9llo\r\n\r\n: ping\r\nevent: server_close\r\ndata: {}\r\n\r\n".encode()
        )
        for i in range(0, len(payload), 5):  # split inside the UTF-8 sequence and the CRLFs
            await resp.write(payload[i : i + 5])
        await resp.write_eof()
        return resp

    app = web.Application()
    app.router.add_get("/events", handler)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    try:
        async with aiohttp.ClientSession() as session, session.get(f"http://{host}:{port}/events") as resp:
            events = [e async for e in iter_sse(resp)]
    finally:
        await runner.cleanup()
    assert events == [SSEEvent(event="a", data="h\u00e9llo"), SSEEvent(event="server_close", data="{}")]
