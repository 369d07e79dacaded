"""Run one cell in the remote session: WebSocket stream or REST loop, input prompts, interrupt, rendering."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TYPE_CHECKING, Any, Literal

from ..display.console import ExecutionRenderer
from ..sdk.errors import BackendAPIError, BackendClientError, BackendError, NotFoundError
from ..sdk.resources.execution import ExecutionStream
from ..sdk.types import ExecutionResult
from ..wire import STREAM_TERMINAL_STATUSES
from .outcome import CellOutcome, SessionGone

if TYPE_CHECKING:
    from ..display.console import ConsoleRenderer
    from ..display.messages import IopubMessage
    from ..sdk.client import AsyncClient

__all__ = ["AskInput", "CellRun", "Publish", "Transport"]

log = logging.getLogger(__name__)

#: Sends one iopub message: (msg_type, content).
Publish = Callable[[str, dict[str, Any]], None]
#: Asks the frontend for one line: (prompt, password) -> the answer.
AskInput = Callable[[str, bool], Awaitable[str]]
Transport = Literal["auto", "websocket", "rest"]

#: After an interrupt, how long the remote run may take to end on its own before we stop waiting for it.
INTERRUPT_GRACE = 5.0


class CellRun:
    """One cell's run: created per cell, driven by ``run()``, stopped early by ``interrupt()``."""

    def __init__(
        self,
        client: AsyncClient,
        session: str,
        code: str,
        *,
        console: ConsoleRenderer,
        publish: Publish,
        ask_input: AskInput,
        transport: Transport = "auto",
        silent: bool = False,
        grace: float = INTERRUPT_GRACE,
    ) -> None:
        self._client = client
        self._session = session
        self._code = code
        self._render = ExecutionRenderer(console)
        self._publish = publish
        self._ask_input = ask_input
        self._transport = transport
        self._silent = silent
        self._grace = grace
        self._interrupted = asyncio.Event()
        self._remote_interrupt: asyncio.Task[None] | None = None
        self._input_error: Exception | None = None
        #: False when the run used REST (the server offers no execute stream), True for the WebSocket
        self.used_websocket: bool | None = None

    @property
    def interrupted(self) -> bool:
        """Whether ``interrupt()`` was called."""
        return self._interrupted.is_set()

    def interrupt(self) -> None:
        """Stop the cell: interrupt the remote code and end the wait (call on the kernel's loop)."""
        if self._interrupted.is_set():
            return
        self._interrupted.set()
        self._remote_interrupt = asyncio.ensure_future(self._post_interrupt())

    async def _post_interrupt(self) -> None:
        try:
            await self._client.sessions.interrupt(self._session)
        except BackendError as exc:  # best effort, as on the server: the grace period ends the cell anyway
            log.warning("interrupting session %s failed: %s", self._session, exc)

    async def run(self) -> CellOutcome:
        """Run the code to the end (or to the interrupt) and return the reply fields."""
        try:
            if self._transport != "rest":
                stream = await self._open_stream()
                if stream is not None:
                    self.used_websocket = True
                    return await self._drive(self._stream_results(stream), stream)
            self.used_websocket = False
            return await self._drive(self._rest_results(), None)
        finally:
            if self._remote_interrupt is not None:
                with contextlib.suppress(asyncio.CancelledError):
                    await self._remote_interrupt

    async def _open_stream(self) -> ExecutionStream | None:
        """The WebSocket run, or None when the server offers no stream (then REST is used)."""
        stream = self._client.sessions.stream(self._session, self._code)
        try:
            await stream.open()
        except NotFoundError as exc:
            if _session_missing(exc):
                raise SessionGone(str(exc)) from None
            if self._transport == "websocket":
                raise
            return None
        except (BackendAPIError, BackendClientError) as exc:
            # nothing was sent yet, so REST cannot run the code twice
            if self._transport == "websocket":
                raise
            log.info("execute WebSocket unavailable (%s); using REST polling", exc)
            return None
        return stream

    async def _stream_results(self, stream: ExecutionStream) -> AsyncIterator[ExecutionResult]:
        async with stream:
            async for result in stream:
                yield result

    async def _rest_results(self) -> AsyncIterator[ExecutionResult]:
        sessions = self._client.sessions
        mode: Literal["query", "continue", "input"] = "query"
        code = self._code
        run_id: str | None = None
        while True:
            try:
                result = await sessions.execute(self._session, mode=mode, code=code, run_id=run_id)
            except NotFoundError as exc:
                if _session_missing(exc):
                    raise SessionGone(str(exc)) from None
                raise
            run_id = result.run_id or run_id
            answer = yield result
            if result.status in STREAM_TERMINAL_STATUSES:
                return
            if result.status == "waiting-input":
                mode, code = "input", answer or ""
            else:
                mode, code = "continue", ""

    async def _drive(
        self, results: AsyncIterator[ExecutionResult], stream: ExecutionStream | None
    ) -> CellOutcome:
        """Render every result, answer input prompts, and turn the end of the run into the reply."""
        gen: Any = results  # an async generator: asend() passes input answers to the REST loop
        answer: str | None = None
        deadline: float | None = None
        loop = asyncio.get_running_loop()
        try:
            while True:
                next_result = asyncio.ensure_future(gen.asend(answer))
                answer = None
                try:
                    result = await self._wait(next_result, deadline)
                except StopAsyncIteration:
                    break
                if result is None:  # the grace period after an interrupt ran out
                    next_result.cancel()
                    with contextlib.suppress(BaseException):
                        await next_result
                    break
                prompt = self._show(result)
                if result.status == "waiting-input":
                    answer = await self._reply_to_prompt(result, prompt)
                    if stream is not None:
                        await stream.send_input(answer)
                        answer = None
                if result.status in STREAM_TERMINAL_STATUSES:
                    return self._finish(result)
                if self.interrupted and deadline is None:
                    deadline = loop.time() + self._grace
        finally:
            with contextlib.suppress(Exception):
                await gen.aclose()
        return self._interrupted_outcome()

    async def _wait(
        self, fut: asyncio.Future[ExecutionResult], deadline: float | None
    ) -> ExecutionResult | None:
        """The next result; None once an interrupt's grace period ends first."""
        while True:
            if deadline is not None:
                remaining = deadline - asyncio.get_running_loop().time()
                if remaining <= 0:
                    return None
                done, _ = await asyncio.wait({fut}, timeout=remaining)
                return fut.result() if done else None
            waiter: asyncio.Future[Any] = asyncio.ensure_future(self._interrupted.wait())
            try:
                done, _ = await asyncio.wait({fut, waiter}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                waiter.cancel()
            if fut in done:
                return fut.result()
            deadline = asyncio.get_running_loop().time() + self._grace

    async def _reply_to_prompt(self, result: ExecutionResult, prompt: str) -> str:
        """The line a waiting ``input()`` gets: the user's answer, or "" once the cell is interrupted."""
        if self.interrupted:
            return ""
        password = bool((result.options or {}).get("is_password", False))
        try:
            answer = await self._answer(prompt, password)
        except Exception as exc:
            # no stdin (nbclient, papermill) or a broken reply: stop the remote code
            self._input_error = exc
            self.interrupt()
            return ""
        # None: interrupted while asking; "" unblocks the remote input() so the run can drain
        return "" if answer is None else answer

    async def _answer(self, prompt: str, password: bool) -> str | None:
        """Ask the frontend; None when the cell was interrupted while waiting."""
        ask: asyncio.Future[Any] = asyncio.ensure_future(self._ask_input(prompt, password))
        waiter: asyncio.Future[Any] = asyncio.ensure_future(self._interrupted.wait())
        try:
            done, _ = await asyncio.wait({ask, waiter}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            waiter.cancel()
        if ask in done:
            return str(ask.result())
        ask.cancel()
        with contextlib.suppress(BaseException):
            await ask
        return None

    def _show(self, result: ExecutionResult) -> str:
        """Publish the result's console items; return the input prompt (trailing stdout text) if it waits."""
        items: list[tuple[str, Any]] = [(item.kind, item.data) for item in result.console]
        prompt = ""
        if result.status == "waiting-input" and items and items[-1][0] == "stdout":
            head, sep, prompt = str(items[-1][1]).rpartition("\n")
            if head or sep:
                items[-1] = ("stdout", head + sep)
            else:
                items.pop()
        self._send(self._render.feed_all(items))
        return prompt

    def _send(self, messages: list[IopubMessage]) -> None:
        if not self._silent:
            for msg_type, content in messages:
                self._publish(msg_type, content)

    def _finish(self, result: ExecutionResult) -> CellOutcome:
        if self._input_error is not None:
            return self._interrupted_outcome()
        if result.status in ("error", "server-restarting"):
            msg = result.msg or result.status
            outcome = CellOutcome.failure(
                "BackendExecutionError", f"the server stopped the run: {msg}; run the cell again"
            )
            self._publish_error(outcome)
            return outcome
        self._send(
            self._render.finish(
                status=result.status, exit_code=result.exit_code, interrupted=self.interrupted
            )
        )
        reply = self._render.reply()
        if reply["status"] == "ok":
            return CellOutcome()
        return CellOutcome.failure(reply["ename"], reply["evalue"], list(reply["traceback"]))

    def _interrupted_outcome(self) -> CellOutcome:
        if self._input_error is not None:
            exc = self._input_error
            outcome = CellOutcome.failure(type(exc).__name__, " ".join(str(exc).split()) or "no input")
        else:
            outcome = CellOutcome.failure("KeyboardInterrupt", "interrupted; the session's state is kept")
        self._publish_error(outcome)
        return outcome

    def _publish_error(self, outcome: CellOutcome) -> None:
        if not self._silent:
            self._publish("error", outcome.content())


def _session_missing(exc: NotFoundError) -> bool:
    """A 404 about the session (not a missing route)."""
    kind = (getattr(exc, "type", "") or "").rsplit("/", 1)[-1]
    return kind != "url-not-found"
