"""Session lifecycle events over Server-Sent Events (``/events/session``; the kernel stream on v4)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterable
from types import TracebackType
from typing import TYPE_CHECKING

from ... import wire
from .. import versioning
from .._errormap import BODY_ERRORS, describe_call, map_transport_error
from .._facade import SyncResource, sync_method
from ..errors import BackendClientError, BackendConnectionError, BackendTimeoutError
from ..sse import SSEEvent, iter_sse
from ..types import SessionEvent, _looks_like_uuid

if TYPE_CHECKING:
    from typing_extensions import Self

    from ..client import AsyncClient

__all__ = ["STATUS_EVENTS", "Events", "SessionEventStream", "SyncEvents"]

#: Session statuses that ``wait_until`` accepts, and the events that announce them: the inverse of
#: ``wire.EVENT_STATUS`` (docs/protocol.md §6), so that the two can never disagree.
STATUS_EVENTS: dict[str, frozenset[str]] = {
    status: frozenset(event for event, announced in wire.EVENT_STATUS.items() if announced == status)
    for status in dict.fromkeys(wire.EVENT_STATUS.values())
}


class SessionEventStream:
    """An open lifecycle event stream: ``async with`` connects, ``async for`` yields ``SessionEvent``.

    Connecting before triggering an action (create, destroy) guarantees that its events are seen.
    The stream ends when the server closes it (e.g. on manager shutdown).
    """

    def __init__(
        self,
        client: AsyncClient,
        *,
        session_id: str | None,
        session_name: str | None,
        scope: str,
        owner_access_key: str | None,
        group: str | None,
    ) -> None:
        self._client = client
        self._query = {
            "session_id": session_id,
            "session_name": session_name,
            "owner_access_key": owner_access_key,
            "group": group,
            "scope": scope,
        }
        self._stack: contextlib.AsyncExitStack | None = None
        self._events: AsyncIterator[SSEEvent] | None = None
        self._call = ""
        self._timeout = (0.0, 0.0)

    async def open(self) -> None:
        """Connect (idempotent)."""
        if self._stack is not None:
            return
        await self._client.negotiate()
        path, params = versioning.events_path_and_params(self._client.api_version_tuple, **self._query)
        stack = contextlib.AsyncExitStack()
        # no read timeout: the stream is quiet between events (the server pings every 15 s)
        timeout = (self._client.config.timeout[0], 0.0)
        try:
            response = await stack.enter_async_context(
                self._client.stream("GET", path, params=dict(params), timeout=timeout)
            )
        except BaseException:
            await stack.aclose()
            raise
        self._stack = stack
        self._events = iter_sse(response)
        self._call, self._timeout = describe_call("GET", path), timeout

    async def close(self) -> None:
        """Disconnect."""
        stack, self._stack = self._stack, None
        events, self._events = self._events, None
        if events is not None:
            with contextlib.suppress(Exception):
                await events.aclose()  # type: ignore[attr-defined]
        if stack is not None:
            await stack.aclose()

    async def __aenter__(self) -> Self:
        await self.open()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    def __aiter__(self) -> Self:
        return self

    async def __anext__(self) -> SessionEvent:
        await self.open()
        if self._events is None:
            raise StopAsyncIteration
        while True:
            try:
                event = await self._events.__anext__()
            except StopAsyncIteration:
                await self.close()
                raise
            except BODY_ERRORS as exc:
                # read outside ``client.stream``'s block, so mapped here; iterating again reconnects
                await self.close()
                raise map_transport_error(exc, call=self._call, timeout=self._timeout, reading=True) from exc
            if event.event == "server_close":
                await self.close()
                raise StopAsyncIteration
            return SessionEvent.from_sse(event.event, event.data)

    async def aclose(self) -> None:
        """Same as ``close`` (async-generator protocol)."""
        await self.close()


class Events:
    """Lifecycle events of compute sessions."""

    def __init__(self, client: AsyncClient) -> None:
        self._client = client

    def session(
        self,
        *,
        session_id: str | None = None,
        session_name: str | None = None,
        scope: str = "*",
        owner_access_key: str | None = None,
        group: str | None = None,
    ) -> SessionEventStream:
        """Lifecycle events of one session (or all: ``session_name='*'``); connects on first use."""
        if scope not in ("*", "session", "kernel"):
            raise BackendClientError(f"scope={scope!r} is not one of '*', 'session', 'kernel'")
        return SessionEventStream(
            self._client,
            session_id=session_id,
            session_name=session_name,
            scope=scope,
            owner_access_key=owner_access_key,
            group=group,
        )

    def stream_for(self, session: str, *, scope: str = "*") -> SessionEventStream:
        """A stream for one session given by name or UUID."""
        if _looks_like_uuid(session):
            return self.session(session_id=session, scope=scope)
        return self.session(session_name=session, scope=scope)

    async def wait_until(
        self,
        session: str,
        until: Iterable[str],
        *,
        timeout: float | None = None,
    ) -> SessionEvent:
        """Wait for the first event whose name (or status, e.g. ``"TERMINATED"``) is in ``until``."""
        wanted: set[str] = set()
        for item in until:
            wanted |= STATUS_EVENTS.get(item, frozenset({item}))
        if not wanted:
            raise BackendClientError("wait_until needs at least one event name or status to wait for")
        stream = self.stream_for(session)

        async def first() -> SessionEvent:
            async with stream:
                async for event in stream:
                    if event.name in wanted:
                        return event
            raise BackendConnectionError(
                f"the event stream of session {session!r} ended before any of {sorted(wanted)} arrived"
            )

        try:
            return await asyncio.wait_for(first(), timeout)
        except asyncio.TimeoutError:
            raise BackendTimeoutError(
                f"session {session!r} sent none of {sorted(wanted)} within {timeout} s; "
                "pass a larger timeout= or check the session's status with sessions.info()"
            ) from None


class SyncEvents(SyncResource[Events]):
    """The blocking twin of ``Events`` (``wait_until``; iterate streams through the async API)."""

    wait_until = sync_method(Events.wait_until)
