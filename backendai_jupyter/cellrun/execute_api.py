"""The execute API's two transports: the WebSocket stream and the REST query/continue/input loop.

Both receive ``ExecutionResult`` s of console items (docs/protocol.md §5) and turn them into events with one
``ExecutionRenderer`` per run, so a remote traceback becomes one ``error`` and the reply says so.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Mapping
from typing import TYPE_CHECKING, Any, Literal

from ..display.console import ExecutionRenderer
from ..display.messages import IopubMessage
from ..sdk.errors import BackendAPIError, BackendClientError, BackendError, NotFoundError
from ..wire import STREAM_TERMINAL_STATUSES
from .outcome import CellOutcome, SessionGone
from .transport import InputRequest, Output, RunEnd, RunEvent, Transport, TransportName, transport_order

if TYPE_CHECKING:
    from ..display.console import ConsoleRenderer
    from ..sdk.client import AsyncClient
    from ..sdk.resources.execution import ExecutionStream
    from ..sdk.types import ExecutionResult

__all__ = ["RestTransport", "RunMode", "WebSocketTransport", "session_missing", "transports_for"]

log = logging.getLogger(__name__)

#: ``query`` runs code in the session's kernel; ``batch`` builds and runs a program (``options``).
RunMode = Literal["query", "batch"]


class _ExecuteApiRun:
    """What both execute-API transports share: the request, the renderer and the interrupt."""

    name: TransportName

    def __init__(
        self,
        client: AsyncClient,
        session: str,
        code: str,
        *,
        console: ConsoleRenderer,
        mode: RunMode = "query",
        options: Mapping[str, Any] | None = None,
        required: bool = False,
    ) -> None:
        self._client = client
        self._session = session
        self._code = code
        self._mode: RunMode = mode
        self._options = dict(options) if options is not None else None
        #: asked for by name: a failure to start is the user's error, not a reason to fall back
        self._required = required
        # batch mode reports the program's real exit code, so a non-zero one fails the cell
        self._render = ExecutionRenderer(console, exit_code_reliable=mode == "batch")
        self._interrupted = False

    async def interrupt(self) -> None:
        self._interrupted = True
        try:
            await self._client.sessions.interrupt(self._session)
        except BackendError as exc:  # best effort, as on the server: the grace period ends the cell anyway
            log.warning("interrupting session %s failed: %s", self._session, exc)

    def _events_of(self, result: ExecutionResult) -> list[RunEvent]:
        """The events of one result: its output, then the prompt it waits at or the end of the run."""
        items: list[tuple[str, Any]] = [(item.kind, item.data) for item in result.console]
        prompt = ""
        if result.status == "waiting-input" and items and items[-1][0] == "stdout":
            # the prompt is the trailing stdout text after the last newline
            head, sep, prompt = str(items[-1][1]).rpartition("\n")
            if head or sep:
                items[-1] = ("stdout", head + sep)
            else:
                items.pop()
        events: list[RunEvent] = [Output(self._render.feed_all(items))]
        if result.status == "waiting-input":
            password = bool((result.options or {}).get("is_password", False))
            events.append(InputRequest(prompt, password))
        if result.status in STREAM_TERMINAL_STATUSES:
            events.append(self._end(result))
        return events

    def _end(self, result: ExecutionResult) -> RunEnd:
        if result.status in ("error", "server-restarting"):
            msg = result.msg or result.status
            outcome = CellOutcome.failure(
                "BackendExecutionError", f"the server stopped the run: {msg}; run the cell again"
            )
            return RunEnd([IopubMessage("error", outcome.content())], outcome)
        messages = self._render.finish(
            status=result.status, exit_code=result.exit_code, interrupted=self._interrupted
        )
        reply = self._render.reply()
        outcome = CellOutcome() if reply["status"] == "ok" else CellOutcome.from_error(reply)
        outcome.exit_code = result.exit_code
        return RunEnd(messages, outcome)


class WebSocketTransport(_ExecuteApiRun):
    """``/stream/session/{name}/execute``: results every 0.2 s, input as raw text frames."""

    name: TransportName = "websocket"
    _stream: ExecutionStream | None = None

    async def start(self) -> bool:
        stream = self._client.sessions.stream(
            self._session, self._code, mode=self._mode, options=self._options
        )
        try:
            await stream.open()
        except NotFoundError as exc:
            if session_missing(exc):
                raise SessionGone(str(exc)) from None
            if self._required:
                raise
            return False
        except (BackendAPIError, BackendClientError) as exc:
            # nothing was sent yet, so falling back cannot run the code twice
            if self._required:
                raise
            log.info("execute WebSocket unavailable (%s); falling back", exc)
            return False
        self._stream = stream
        return True

    async def events(self) -> AsyncIterator[RunEvent]:
        assert self._stream is not None, "start() first"
        async for result in self._stream:
            for event in self._events_of(result):
                yield event

    async def send_input(self, text: str) -> None:
        if self._stream is not None:
            await self._stream.send_input(text)

    async def close(self) -> None:
        if self._stream is not None:
            await self._stream.close()


class RestTransport(_ExecuteApiRun):
    """``POST /session/{name}``: a long poll per step (``continued`` after 2 s), input as ``mode: input``."""

    name: TransportName = "rest"
    _answer = ""

    async def start(self) -> bool:
        return True  # the first execute call both sends the code and brings the first output

    async def events(self) -> AsyncIterator[RunEvent]:
        sessions = self._client.sessions
        mode: Literal["query", "batch", "continue", "input"] = self._mode
        code, options = self._code, self._options
        run_id: str | None = None
        while True:
            try:
                result = await sessions.execute(
                    self._session, mode=mode, code=code, run_id=run_id, options=options
                )
            except NotFoundError as exc:
                if session_missing(exc):
                    raise SessionGone(str(exc)) from None
                raise
            run_id, options = result.run_id or run_id, None
            for event in self._events_of(result):
                yield event
            if result.status in STREAM_TERMINAL_STATUSES:
                return
            if result.status == "waiting-input":
                mode, code, self._answer = "input", self._answer, ""
            else:
                mode, code = "continue", ""

    async def send_input(self, text: str) -> None:
        self._answer = text  # sent by the next step of the loop

    async def close(self) -> None:
        pass  # every step was a complete request


def transports_for(
    preference: str,
    client: AsyncClient,
    session: str,
    code: str,
    *,
    console: ConsoleRenderer,
    mode: RunMode = "query",
    options: Mapping[str, Any] | None = None,
) -> list[Transport]:
    """The execute-API transports a preference (``wire.TRANSPORTS``) tries, best first.

    A transport named on its own is required: failing to start it is an error, not a reason to fall back.
    """
    names = transport_order(preference)
    classes: dict[str, type[WebSocketTransport | RestTransport]] = {
        "websocket": WebSocketTransport,
        "rest": RestTransport,
    }
    return [
        classes[name](
            client, session, code, console=console, mode=mode, options=options, required=len(names) == 1
        )
        for name in names
    ]


def session_missing(exc: NotFoundError) -> bool:
    """A 404 about the session (not a missing route)."""
    kind = (getattr(exc, "type", "") or "").rsplit("/", 1)[-1]
    return kind != "url-not-found"
