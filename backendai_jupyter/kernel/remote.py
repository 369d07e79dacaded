"""The kernel's remote side: its session, the SDK client, and how a remote part of a cell runs.

Everything here runs on the kernel's shell loop; the kernel's hooks call :meth:`RemoteCells.run`,
:meth:`complete`, :meth:`interrupt` and :meth:`end`. Failures become one ``error`` and an outcome whose
message says what to do next; nothing escapes as a traceback from this package.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, TypeVar

from ..cellrun import (
    KERNEL,
    AskInput,
    CellOutcome,
    CellRun,
    Publish,
    SessionFailed,
    SessionGone,
    with_next_step,
)
from ..cellrun.execute_api import transports_for
from ..display.console import ConsoleRenderer
from ..display.status import StatusLine, status_text
from ..sdk.errors import (
    BackendAPIError,
    BackendClientError,
    BackendConnectionError,
    BackendError,
    NotFoundError,
)
from ..wire import GONE_SESSION_STATUSES
from .completion import CompletionQuery, empty_reply, replaced_token
from .session import RemoteSession, SessionSettings

if TYPE_CHECKING:
    from pathlib import Path

    from ..sdk.client import AsyncClient
    from ..sdk.config import APIConfig

__all__ = ["RemoteCells"]

log = logging.getLogger(__name__)
T = TypeVar("T")

#: A completion request never waits longer than this for the session.
COMPLETE_TIMEOUT = 5.0
#: How long a Jupyter shutdown/restart may spend on the remote session (jupyter_client kills us after ~5 s).
SHUTDOWN_TIMEOUT = 4.0


class RemoteCells:
    """The remote session behind a kernel and the runs of the cells sent there."""

    def __init__(
        self,
        settings: SessionSettings,
        *,
        state_dir: Path,
        api_config: Callable[[], APIConfig],
        transport: str,
        publish: Publish,
        ask_input: AskInput,
    ) -> None:
        self.session = RemoteSession(settings, state_dir=state_dir, client=self.client)
        self._api_config = api_config
        self._transport = transport
        self._publish = publish
        self._ask_input = ask_input
        self._client: AsyncClient | None = None
        self._client_loop: asyncio.AbstractEventLoop | None = None
        #: one per remote session: it keeps the drawing canvases across cells
        self._console: ConsoleRenderer | None = None
        #: stops what runs now (the cell, or the session start); None when idle
        self._cancel: Callable[[], object] | None = None
        self._gone_reason = ""

    async def client(self) -> AsyncClient:
        """The SDK client of the running loop (created on first use; kernel_info never waits for it)."""
        from ..sdk.client import AsyncClient  # aiohttp loads with the first remote cell, not at kernel start

        loop = asyncio.get_running_loop()
        if self._client is not None and self._client_loop is loop:
            return self._client
        client = AsyncClient(self._api_config())
        if self._client is None:
            self._client, self._client_loop = client, loop
        return client

    # -- the session binding (``%backend attach``/``detach``) --------------------------------------------

    def use_session(self, name: str, session_id: str) -> None:
        """Run the next cells in this existing session (never destroyed by this kernel)."""
        self.session.attach_to(name, session_id)
        self._console = None  # drawings belong to a session

    def leave_session(self) -> str | None:
        """Stop using the current session (it keeps running); its name, or None if there was none."""
        self._console = None
        return self.session.detach()

    # -- running ------------------------------------------------------------------------------------

    def interrupt(self) -> None:
        """Stop the remote cell or the session start in progress (on the shell loop); nothing when idle."""
        if self._cancel is not None:
            self._cancel()

    async def run(self, code: str, *, silent: bool, store_history: bool) -> CellOutcome:
        """Run one remote part of a cell, starting the session first if needed."""
        if not code.strip():
            return CellOutcome()
        if (silent or not store_history) and self.session.ref is None:
            return CellOutcome()  # a frontend probe (VS Code sends these): never start a session for it
        try:
            session_id = await self._cancellable(self.session.ensure(None if silent else self._status_line()))
            if self._console is None:
                self._console = ConsoleRenderer(session_key=session_id[:8])
            transports = transports_for(
                self._transport, await self.client(), session_id, code, console=self._console
            )
            run = CellRun(transports, publish=self._publish, ask_input=self._ask_input, silent=silent)
            self._cancel = run.interrupt
            try:
                outcome = await run.run()
            finally:
                self._cancel = None
            if self._transport == "auto" and run.transport_used is not None:
                self._transport = run.transport_used  # what worked: don't probe the others every cell
            return outcome
        except asyncio.CancelledError:
            return self._fail(
                CellOutcome.failure("KeyboardInterrupt", "interrupted while the session was starting"), silent
            )
        except SessionGone:
            return self._fail(await self._gone(), silent)
        except SessionFailed as exc:
            return self._fail(CellOutcome.failure("SessionError", str(exc)), silent)
        except BackendConnectionError as exc:
            if await self._session_vanished():
                return self._fail(await self._gone(), silent)
            return self._fail(CellOutcome.failure(type(exc).__name__, with_next_step(exc, KERNEL)), silent)
        except (BackendAPIError, BackendClientError) as exc:
            if isinstance(exc, NotFoundError):
                self.session.forget()
                self._console = None
            return self._fail(CellOutcome.failure(type(exc).__name__, with_next_step(exc, KERNEL)), silent)

    def _fail(self, outcome: CellOutcome, silent: bool) -> CellOutcome:
        if not silent:
            self._publish("error", outcome.content())
        return outcome

    async def _cancellable(self, aw: Awaitable[T]) -> T:
        """Await ``aw`` so that a Jupyter interrupt cancels it (used while a session starts)."""
        task = asyncio.ensure_future(aw)
        self._cancel = task.cancel
        try:
            return await task
        finally:
            self._cancel = None

    async def _session_vanished(self) -> bool:
        ref = self.session.ref
        if ref is None:
            return False
        try:
            info = await (await self.client()).sessions.info(ref)
        except NotFoundError:
            return True
        except BackendError:
            return False
        self._gone_reason = info.status_info or ""
        return info.status in GONE_SESSION_STATUSES

    async def _gone(self) -> CellOutcome:
        name = self.session.name
        if not self._gone_reason:
            # only to name the reason (e.g. idle-timeout) if the server knows it
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._session_vanished(), 2.0)
        reason, self._gone_reason = self._gone_reason, ""
        self.session.forget()
        self._console = None
        why = f" ({reason})" if reason else ""
        return CellOutcome.failure(
            "SessionTerminated", f"session {name} was terminated{why}; run the cell again to start a new one"
        )

    def _status_line(self) -> Callable[[str, float, bool], None]:
        """A callback showing the session's status as one display updated in place while it starts."""
        line = StatusLine(f"backendai-status-{uuid.uuid4().hex[:12]}")
        shown = False
        name, image = self.session.name, self.session.settings.image

        def update(status: str, elapsed: float, final: bool) -> None:
            nonlocal shown
            if final and not shown:
                return  # it started at once: no line to show
            msg_type, content = line.show(status_text(status, session=name, elapsed=elapsed, image=image))
            self._publish(msg_type, content)
            shown = True

        return update

    # -- completion ---------------------------------------------------------------------------------

    async def complete(self, code: str, cursor: int) -> dict[str, Any]:
        """Completions from the session (none before it exists or when it cannot answer in time)."""
        reply = empty_reply(cursor)
        ref = self.session.ref
        if ref is None or not code.strip():
            return reply
        query = CompletionQuery.at(code, cursor)
        try:
            client = await self.client()
            matches = await asyncio.wait_for(
                client.sessions.complete(
                    ref, query.before, row=query.row, col=query.col, line=query.line, post=query.post
                ),
                COMPLETE_TIMEOUT,
            )
        except (BackendError, asyncio.TimeoutError) as exc:
            log.info("completion failed: %s", exc)
            return reply
        texts = [m for m in matches if isinstance(m, str)]
        reply["matches"] = texts
        reply["cursor_start"] = cursor - len(replaced_token(query.before, texts))
        return reply

    # -- the end ------------------------------------------------------------------------------------

    async def end(self, *, restart: bool) -> None:
        """Jupyter restart -> Backend.AI restart of an owned session; shutdown -> destroy it if owned.

        Called on the control thread's loop: the work runs on the loop that owns the client.
        """
        op = self.session.restart if restart else self.session.shutdown
        try:
            await self._on_client_loop(op, SHUTDOWN_TIMEOUT)
        except Exception as exc:  # shutting down anyway: say why the session may be left over
            what = "restart" if restart else "end"
            log.warning("could not %s the session %s: %s", what, self.session.name, exc)
        client, loop = self._client, self._client_loop
        if client is not None and loop is not None and loop.is_running():
            with contextlib.suppress(Exception):
                await self._on_client_loop(client.close, 1.0)

    async def _on_client_loop(self, op: Callable[[], Awaitable[None]], timeout: float) -> None:
        loop = self._client_loop
        if loop is not None and loop.is_running() and loop is not asyncio.get_running_loop():
            future = asyncio.run_coroutine_threadsafe(_awaited(op), loop)
            await asyncio.wait_for(asyncio.wrap_future(future), timeout)
        else:
            await asyncio.wait_for(op(), timeout)


async def _awaited(op: Callable[[], Awaitable[None]]) -> None:
    await op()
