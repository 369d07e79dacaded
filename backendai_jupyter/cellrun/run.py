"""Run one cell in a remote session: the one loop every path that runs code and shows its results uses.

The kernel's cells, ``%%backend``, ``%backend run`` (query and batch mode) and every point of a sweep make a
:class:`CellRun` from the transports to try (``execute_api.transports_for``) and await :meth:`CellRun.run`.
It starts the first transport the server offers, shows what the run produces, answers input prompts, and
turns the end of the run (or an interrupt) into the outcome.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterable, Sequence
from typing import Any

from ..display.messages import IopubMessage
from .frontend import AskInput, Publish
from .hints import one_line
from .outcome import CellOutcome, SessionFailed
from .transport import InputRequest, Output, RunEnd, RunEvent, Transport, TransportName

__all__ = ["INTERRUPT_GRACE", "CellRun"]

#: After an interrupt, how long the remote run may take to end on its own before we stop waiting for it.
INTERRUPT_GRACE = 5.0


class CellRun:
    """One cell's run: created per cell, driven by ``run()``, stopped early by ``interrupt()``."""

    def __init__(
        self,
        transports: Sequence[Transport],
        *,
        publish: Publish,
        ask_input: AskInput,
        silent: bool = False,
        grace: float = INTERRUPT_GRACE,
    ) -> None:
        if not transports:
            raise ValueError("a cell run needs at least one transport")
        self._transports = list(transports)
        self._current: Transport = self._transports[0]
        self._publish = publish
        self._ask_input = ask_input
        self._silent = silent
        self._grace = grace
        self._interrupted = asyncio.Event()
        self._remote_interrupt: asyncio.Task[None] | None = None
        self._input_error: Exception | None = None
        #: the transport the run used, once it started
        self.transport_used: TransportName | None = None

    @property
    def interrupted(self) -> bool:
        """Whether ``interrupt()`` was called."""
        return self._interrupted.is_set()

    def interrupt(self) -> None:
        """Stop the cell: interrupt the remote code and end the wait (call on the run's loop)."""
        if self._interrupted.is_set():
            return
        self._interrupted.set()
        self._remote_interrupt = asyncio.ensure_future(self._current.interrupt())

    async def run(self) -> CellOutcome:
        """Run the code to the end (or to the interrupt) and return the reply fields."""
        try:
            for transport in self._transports:
                self._current = transport
                if await transport.start():
                    self.transport_used = transport.name
                    try:
                        return await self._drive(transport)
                    finally:
                        await transport.close()
            raise SessionFailed(
                "the server offers none of the transports tried ("
                + ", ".join(t.name for t in self._transports)
                + "); set the transport to auto"
            )
        finally:
            if self._remote_interrupt is not None:
                with contextlib.suppress(asyncio.CancelledError):
                    await self._remote_interrupt

    async def _drive(self, transport: Transport) -> CellOutcome:
        """Show every event, answer input prompts, and turn the end of the run into the reply."""
        events: AsyncIterator[RunEvent] = transport.events()
        deadline: float | None = None
        loop = asyncio.get_running_loop()
        try:
            while True:
                next_event = asyncio.ensure_future(anext(events))
                try:
                    event = await self._wait(next_event, deadline)
                except StopAsyncIteration:
                    break
                if event is None:  # the grace period after an interrupt ran out
                    next_event.cancel()
                    with contextlib.suppress(BaseException):
                        await next_event
                    break
                if isinstance(event, Output):
                    self._send(event.messages)
                elif isinstance(event, InputRequest):
                    await transport.send_input(await self._reply_to_prompt(event))
                elif isinstance(event, RunEnd):
                    return self._finish(event)
                if self.interrupted and deadline is None:
                    deadline = loop.time() + self._grace
        finally:
            aclose = getattr(events, "aclose", None)  # an async generator: end it where it stopped
            if aclose is not None:
                with contextlib.suppress(Exception):
                    await aclose()
        return self._interrupted_outcome()

    async def _wait(self, fut: asyncio.Future[RunEvent], deadline: float | None) -> RunEvent | None:
        """The next event; None once an interrupt's grace period ends first."""
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

    async def _reply_to_prompt(self, request: InputRequest) -> str:
        """The line a waiting ``input()`` gets: the user's answer, or "" once the cell is interrupted."""
        if self.interrupted:
            return ""
        try:
            answer = await self._answer(request.prompt, request.password)
        except Exception as exc:
            # no stdin (nbclient, papermill, a sweep) or a broken reply: stop the remote code
            self._input_error = exc
            self.interrupt()
            return ""
        # None: interrupted while asking; "" unblocks the remote input() so the run can drain
        return "" if answer is None else answer

    async def _answer(self, prompt: str, password: bool) -> str | None:
        """Ask the front end; None when the cell was interrupted while waiting."""
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

    def _send(self, messages: Iterable[IopubMessage]) -> None:
        if not self._silent:
            for msg_type, content in messages:
                self._publish(msg_type, content)

    def _finish(self, end: RunEnd) -> CellOutcome:
        if self._input_error is not None:
            return self._interrupted_outcome()
        self._send(end.messages)
        return end.outcome

    def _interrupted_outcome(self) -> CellOutcome:
        if self._input_error is not None:
            exc = self._input_error
            outcome = CellOutcome.failure(type(exc).__name__, one_line(exc))
        else:
            outcome = CellOutcome.failure("KeyboardInterrupt", "interrupted; the session's state is kept")
        self._send([IopubMessage("error", outcome.content())])
        return outcome
