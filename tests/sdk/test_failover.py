"""The endpoint walk: which failures move on to the next endpoint, in which order, and what is reported."""

from __future__ import annotations

import aiohttp
import pytest
from fakeserver import ClosedPort
from yarl import URL

from backendai_jupyter.sdk._failover import EndpointWalk, failed_before_send

A, B, C = URL("http://a:1"), URL("http://b:2"), URL("http://c:3")


async def _refused() -> aiohttp.ClientConnectorError:
    closed = ClosedPort()
    try:
        async with aiohttp.ClientSession() as session:
            await session.get(closed.url)
    except aiohttp.ClientConnectorError as exc:
        return exc
    finally:
        closed.close()
    raise AssertionError("a closed port answered")


def test_walk_starts_at_the_endpoint_in_use_and_wraps() -> None:
    walk = EndpointWalk([A, B, C], 1, idempotent=False)
    assert list(walk) == [(1, B), (2, C), (0, A)]


async def test_refused_connections_move_on_for_any_method() -> None:
    refused = await _refused()
    assert failed_before_send(refused)
    assert failed_before_send(aiohttp.ConnectionTimeoutError())
    walk = EndpointWalk([A, B], 0, idempotent=False)
    visited = []
    for _, endpoint in walk:
        visited.append(endpoint)
        assert walk.absorb(endpoint, refused)
    assert visited == [A, B]
    assert walk.tried == [str(A), str(B)]
    assert not walk.sent
    assert str(walk.exhausted()).startswith(
        "cannot connect to Backend.AI (http://a:1, http://b:2): Cannot connect"
    )


def test_a_lost_connection_moves_on_only_when_the_request_may_run_twice() -> None:
    lost = aiohttp.ServerDisconnectedError()
    assert not failed_before_send(lost)
    idempotent = EndpointWalk([A, B], 0, idempotent=True)
    assert [e for _, e in idempotent if idempotent.absorb(e, lost)] == [A, B]
    assert idempotent.sent
    once = EndpointWalk([A, B], 0, idempotent=False)
    visited = [e for _, e in once if once.absorb(e, lost)]
    assert visited == [A]  # absorbed (reported by exhausted()), but B must not see the request too
    assert once.sent
    assert "Server disconnected" in str(once.exhausted())


@pytest.mark.parametrize(
    "exc",
    [aiohttp.ServerTimeoutError(), aiohttp.ClientPayloadError("cut"), aiohttp.InvalidURL("x")],
    ids=["read-timeout", "payload", "invalid-url"],
)
def test_other_failures_end_the_walk(exc: aiohttp.ClientError) -> None:
    walk = EndpointWalk([A, B], 0, idempotent=True)
    assert not walk.absorb(A, exc)
    assert walk.tried == []
