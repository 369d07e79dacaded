"""Code execution: one REST execute step, the query/continue/input/batch loop, and the WebSocket stream."""

from __future__ import annotations

import inspect
import json
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal

import aiohttp

from ... import wire
from .. import versioning
from .._errormap import describe_call, map_transport_error
from ..errors import BackendClientError, BackendConnectionError
from ..types import ExecutionResult
from ._util import quote_segment, session_path

if TYPE_CHECKING:
    from typing_extensions import Self

    from ..client import AsyncClient

__all__ = ["Execution", "ExecutionStream", "InputHandler", "RunMode", "StepMode"]

#: Modes of one REST execute call (docs/protocol.md §5.1).
StepMode = Literal["query", "batch", "continue", "input"]
#: Modes that start a run.
RunMode = Literal["query", "batch"]
#: Called with ``is_password`` when the code waits for input; returns the line to send.
InputHandler = Callable[[bool], "str | Awaitable[str]"]

#: Statuses after which the same run continues with ``mode: continue``.
_CONTINUE_STATUSES = frozenset({"continued", "clean-finished", "build-finished"})


class Execution:
    """Execute code in a compute session (the base of ``Sessions``; usable on its own)."""

    def __init__(self, client: AsyncClient) -> None:
        self._client = client

    async def execute(
        self,
        session: str,
        *,
        mode: StepMode,
        code: str,
        run_id: str | None = None,
        options: Mapping[str, Any] | None = None,
    ) -> ExecutionResult:
        """One REST execute call (``POST /session/{id}``); never retried, since it runs user code."""
        if mode not in ("query", "batch", "continue", "input"):
            raise BackendClientError(
                f"execute mode {mode!r} is not one of 'query', 'batch', 'continue', 'input'; "
                "use Sessions.complete() for completions"
            )
        if mode in ("continue", "input") and not run_id:
            raise BackendClientError(
                f"execute mode {mode!r} needs the run_id of the run it continues; pass run_id=result.run_id"
            )
        body: dict[str, Any] = {"mode": mode, "code": code, "runId": run_id}
        if options is not None:
            body["options"] = dict(options)
        path = await session_path(self._client, session)
        resp = await self._client.request("POST", path, json=body, idempotent=False)
        payload = resp.json()
        result = payload.get("result", payload) if isinstance(payload, Mapping) else {}
        if not isinstance(result, Mapping):
            raise BackendClientError(
                f"execute reply of session {session!r} has no result object: {payload!r}"
            )
        return ExecutionResult.from_api(result, run_id=run_id)

    async def run(
        self,
        session: str,
        code: str,
        *,
        mode: RunMode = "query",
        options: Mapping[str, Any] | None = None,
        input_handler: InputHandler | None = None,
    ) -> AsyncIterator[ExecutionResult]:
        """Run code to the end through REST calls, yielding every step's result as it arrives."""
        step_mode: StepMode = mode
        step_code = code
        step_options = options
        run_id: str | None = None
        while True:
            result = await self.execute(
                session, mode=step_mode, code=step_code, run_id=run_id, options=step_options
            )
            run_id = result.run_id or run_id
            yield result
            if result.status in wire.TERMINAL_EXECUTE_STATUSES:
                return
            step_options = None
            if result.status == "waiting-input":
                if input_handler is None:
                    raise BackendClientError(
                        f"the code in session {session!r} waits for input; pass input_handler= to run()"
                    )
                answer = input_handler(bool(result.options.get("is_password", False)))
                step_mode, step_code = "input", await answer if inspect.isawaitable(answer) else answer
            elif result.status in _CONTINUE_STATUSES:
                step_mode, step_code = "continue", ""
            else:
                # an unknown status: continuing is what every official client does
                step_mode, step_code = "continue", ""

    def stream(
        self,
        session: str,
        code: str,
        *,
        mode: RunMode = "query",
        options: Mapping[str, Any] | None = None,
    ) -> ExecutionStream:
        """A WebSocket run (``/stream/session/{id}/execute``); use ``async with`` and ``async for``."""
        if mode not in ("query", "batch"):
            raise BackendClientError(f"stream mode {mode!r} is not 'query' or 'batch'")
        return ExecutionStream(self._client, session, code=code, mode=mode, options=options)


class ExecutionStream:
    """One run over the execute WebSocket: an async context manager and an async iterator of results."""

    def __init__(
        self,
        client: AsyncClient,
        session: str,
        *,
        code: str,
        mode: RunMode,
        options: Mapping[str, Any] | None,
    ) -> None:
        self._client = client
        self._session = session
        self._first = {"code": code, "mode": mode, "options": dict(options or {})}
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._path = ""
        self._done = False

    async def open(self) -> None:
        """Connect and send the code as the first TEXT frame (``async with`` or the first ``next``)."""
        if self._ws is not None:
            return
        await self._client.negotiate()
        prefix = versioning.stream_prefix(self._client.api_version_tuple)
        self._path = f"{prefix}/{quote_segment(self._session)}/execute"
        self._ws = await self._client.ws_connect(self._path)
        await self._send_text(json.dumps(self._first))

    async def _send_text(self, text: str) -> None:
        try:
            await self.websocket.send_str(text)
        except (aiohttp.ClientError, ConnectionError) as exc:
            # e.g. the session was terminated and the server closed the socket
            self._done = True
            call = describe_call("WebSocket", self._path)
            raise map_transport_error(exc, call=call, timeout=self._client.config.timeout) from exc

    @property
    def websocket(self) -> aiohttp.ClientWebSocketResponse:
        """The underlying aiohttp WebSocket (after ``open``)."""
        if self._ws is None:
            raise BackendClientError("the execute stream is not open yet; use 'async with' or call open()")
        return self._ws

    @property
    def closed(self) -> bool:
        """Whether the run has ended or the socket is closed."""
        return self._done or (self._ws is not None and self._ws.closed)

    async def send_input(self, text: str) -> None:
        """Answer a ``waiting-input`` result: one raw TEXT frame (not JSON)."""
        await self._send_text(text)

    async def close(self) -> None:
        """Close the socket (the server interrupts an unfinished run)."""
        self._done = True
        if self._ws is not None and not self._ws.closed:
            await self._ws.close()

    async def __aenter__(self) -> Self:
        await self.open()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    def __aiter__(self) -> Self:
        return self

    async def __anext__(self) -> ExecutionResult:
        if self._done:
            raise StopAsyncIteration
        await self.open()
        ws = self.websocket
        while True:
            msg = await ws.receive()
            if msg.type == aiohttp.WSMsgType.TEXT:
                try:
                    data = json.loads(msg.data)
                except ValueError:
                    raise BackendClientError(
                        f"execute stream of session {self._session!r} sent a frame that is not JSON"
                    ) from None
                if not isinstance(data, Mapping):
                    continue
                result = ExecutionResult.from_api(data)
                if result.status in wire.STREAM_TERMINAL_STATUSES:
                    await self.close()
                return result
            if msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSING, aiohttp.WSMsgType.CLOSED):
                self._done = True
                raise BackendConnectionError(
                    f"the execute stream of session {self._session!r} closed before the run finished "
                    f"(close code {ws.close_code}); the session may have been terminated"
                )
            if msg.type == aiohttp.WSMsgType.ERROR:
                self._done = True
                raise BackendConnectionError(
                    f"the execute stream of session {self._session!r} failed: {ws.exception()!r}"
                )
            # binary frames are reserved for future extensions: skip them
