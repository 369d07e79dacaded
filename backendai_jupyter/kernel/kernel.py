"""The "Backend.AI (remote)" Jupyter kernel: ipykernel hooks that forward cells to a Backend.AI session."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import re
import sys
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import zmq
from ipykernel.iostream import OutStream
from ipykernel.kernelbase import Kernel
from IPython.core.error import StdinNotImplementedError
from IPython.core.inputtransformer2 import TransformerManager
from jupyter_core.paths import jupyter_runtime_dir

from .. import __version__
from ..display.status import StatusLine, status_text
from ..wire import GONE_SESSION_STATUSES
from .comms import KernelComms
from .config import BackendKernelConfig
from .localshell import LocalShell, split_cell
from .outcome import CellOutcome, SessionFailed, SessionGone
from .session import RemoteSession, SessionSettings, session_name_for

if TYPE_CHECKING:
    # the SDK (aiohttp) loads on the first remote cell, so that kernel_info answers at once
    from ..sdk.client import AsyncClient
    from ..sdk.errors import BackendError

__all__ = ["BackendKernel", "language_info_for"]

log = logging.getLogger(__name__)
T = TypeVar("T")

#: How long a Jupyter shutdown/restart may spend on the remote session (jupyter_client kills us after ~5 s).
_SHUTDOWN_TIMEOUT = 4.0
#: A completion request never waits longer than this for the session.
_COMPLETE_TIMEOUT = 5.0

_PYTHON_INFO: dict[str, Any] = {
    "name": "python",
    "mimetype": "text/x-python",
    "file_extension": ".py",
    "codemirror_mode": {"name": "ipython", "version": 3},
    "pygments_lexer": "ipython3",
    "nbconvert_exporter": "python",
}
#: Non-Python runtimes Backend.AI offers (image base name -> language_info); anything else is Python.
_OTHER_LANGUAGES: dict[str, dict[str, Any]] = {
    "r": {"name": "R", "mimetype": "text/x-r-source", "file_extension": ".r", "pygments_lexer": "r"},
    "r-base": {"name": "R", "mimetype": "text/x-r-source", "file_extension": ".r", "pygments_lexer": "r"},
    "julia": {
        "name": "julia",
        "mimetype": "application/julia",
        "file_extension": ".jl",
        "pygments_lexer": "julia",
    },
    "nodejs": {
        "name": "javascript",
        "mimetype": "application/javascript",
        "file_extension": ".js",
        "pygments_lexer": "javascript",
    },
    "lua": {"name": "lua", "mimetype": "text/x-lua", "file_extension": ".lua", "pygments_lexer": "lua"},
    "php": {"name": "php", "mimetype": "text/x-php", "file_extension": ".php", "pygments_lexer": "php"},
}


def language_info_for(image: str) -> dict[str, Any]:
    """``language_info`` for an image reference such as ``cr.backend.ai/stable/python:3.9-ubuntu20.04``."""
    base = image.rsplit("/", 1)[-1].split(":", 1)[0].lower()
    return dict(_OTHER_LANGUAGES.get(base, _PYTHON_INFO))


def _log_to_process_stderr() -> None:
    """Send our log records to the kernel process's stderr, never into the notebook as stream output."""
    pkg = logging.getLogger("backendai_jupyter")
    if not pkg.handlers:
        handler = logging.StreamHandler(sys.__stderr__)
        handler.setFormatter(logging.Formatter("[backendai-kernel] %(levelname)s | %(message)s"))
        pkg.addHandler(handler)
        pkg.propagate = False


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text or type(exc).__name__


class BackendKernel(Kernel, BackendKernelConfig):
    """A kernel whose cells run in a Backend.AI compute session (created lazily, owned or attached)."""

    implementation = "backendai-jupyter"
    implementation_version = __version__
    banner = f"Backend.AI (remote) kernel {__version__}: cells run in a Backend.AI compute session"
    help_links = [{"text": "Backend.AI", "url": "https://docs.backend.ai/"}]  # noqa: RUF012 (ipykernel API)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)  # type: ignore[no-untyped-call]
        _log_to_process_stderr()
        self._transformer = TransformerManager()  # type: ignore[no-untyped-call]
        connection_file = self._connection_file()
        #: a malformed setting: the kernel still starts, and every cell says what to fix
        self._config_error = ""
        try:
            settings = SessionSettings(
                image=self.image,
                resources=dict(self.resources),
                mounts=list(self.mounts),
                environ=dict(self.environ),
                name=self.session_name or session_name_for(connection_file),
                attach=self.attach,
                startup_timeout=self.startup_timeout,
            )
            transport = self.transport
            state_dir = Path(self.state_dir) if self.state_dir else self._default_state_dir(connection_file)
        except Exception as exc:
            self._config_error = _one_line(exc)
            settings = SessionSettings("python", {}, [], {}, name=session_name_for(connection_file))
            transport, state_dir = "auto", self._default_state_dir(connection_file)
        self.language_info = language_info_for(settings.image)
        self._python = self.language_info["name"] == "python"
        self.remote = RemoteSession(settings, state_dir=state_dir, client=self._get_client)
        self._client: AsyncClient | None = None
        self._client_loop: asyncio.AbstractEventLoop | None = None
        self._shell_loop: asyncio.AbstractEventLoop | None = None
        self._console: Any = None  # display.console.ConsoleRenderer, one per remote session
        self._cancel: Callable[[], object] | None = None
        self._transport_in_use = transport
        self._local: LocalShell | None = None
        self._gone_reason = ""
        # ipywidgets in the local shell talk to the front end through these (as in IPython's kernel)
        self.comms = KernelComms(self)
        self.comm_manager = self.comms.manager  # what Kernel.comm_info_request lists
        self.shell_handlers.update(self.comms.handlers())

    # -- plumbing ------------------------------------------------------------------------------------

    def _connection_file(self) -> str | None:
        app = self.parent
        path = getattr(app, "abs_connection_file", None) or getattr(app, "connection_file", None)
        return str(path) if path else None

    @staticmethod
    def _default_state_dir(connection_file: str | None) -> Path:
        base = Path(connection_file).parent if connection_file else Path(jupyter_runtime_dir())
        return base / "backendai-sessions"

    async def _get_client(self) -> AsyncClient:
        """The SDK client of the shell loop (created on first use; kernel_info never waits for it)."""
        loop = asyncio.get_running_loop()
        if self._client is not None and self._client_loop is loop:
            return self._client
        from ..sdk.client import AsyncClient
        from ..sdk.config import APIConfig

        config = APIConfig(
            endpoint=self.endpoint or None, domain=self.domain or None, group=self.group or None
        )
        client = AsyncClient(config)
        if self._client is None:
            self._client, self._client_loop = client, loop
        return client

    def set_parent(self, ident: Any, parent: dict[str, Any], channel: str = "shell") -> None:
        """Also parent sys.stdout/sys.stderr (as IPython's kernel does): local output shows under its cell."""
        super().set_parent(ident, parent, channel)  # type: ignore[no-untyped-call]
        if channel == "shell":
            for stream in (sys.stdout, sys.stderr):
                if isinstance(stream, OutStream):
                    stream.set_parent(parent)  # type: ignore[no-untyped-call]

    def _publish(self, msg_type: str, content: dict[str, Any]) -> None:
        self.send_response(self.iopub_socket, msg_type, content)  # type: ignore[no-untyped-call]

    def _error_reply(self, outcome: CellOutcome) -> dict[str, Any]:
        return {"status": "error", "execution_count": self.execution_count, **outcome.content()}

    def _ok_reply(self) -> dict[str, Any]:
        return {
            "status": "ok",
            "execution_count": self.execution_count,
            "payload": [],
            "user_expressions": {},
        }

    # -- execute -------------------------------------------------------------------------------------

    async def do_execute(
        self,
        code: str,
        silent: bool,
        store_history: bool = True,
        user_expressions: dict[str, Any] | None = None,
        allow_stdin: bool = False,
        *,
        cell_meta: dict[str, Any] | None = None,
        cell_id: str | None = None,
    ) -> dict[str, Any]:
        """Run a cell: local magics here, everything else in the remote session; always replies."""
        self._allow_stdin = allow_stdin
        self._shell_loop = asyncio.get_running_loop()
        if self._config_error and code.strip():
            return self._error_reply(
                self._fail(
                    CellOutcome.failure("ConfigError", f"{self._config_error}; fix it and restart"), silent
                )
            )
        try:
            for segment in split_cell(code):
                if segment.local:
                    outcome = await self._run_local(segment.code, silent=silent)
                else:
                    outcome = await self._run_remote(segment.code, silent=silent, store_history=store_history)
                if outcome.status == "error":
                    return self._error_reply(outcome)
            return self._ok_reply()
        except (Exception, asyncio.CancelledError) as exc:  # every path replies: never a hung cell
            if isinstance(exc, asyncio.CancelledError):
                outcome = CellOutcome.failure("KeyboardInterrupt", "interrupted")
            else:
                log.exception("cell failed inside the kernel")
                outcome = CellOutcome.failure(type(exc).__name__, _one_line(exc))
            if not silent:
                self._publish("error", outcome.content())
            return self._error_reply(outcome)
        finally:
            self._cancel = None

    async def _run_local(self, code: str, *, silent: bool) -> CellOutcome:
        if self._local is None:
            self._local = LocalShell(self._publish, self._ask_input, kernel=self)
            from ..magics.binding import bind_kernel

            bind_kernel(self._local.shell, _SessionBinding(self))
        self._cancel = self._local.interrupt
        try:
            error = await self._local.run(code, silent=silent)
        finally:
            self._cancel = None
        if error is None:
            return CellOutcome()
        return CellOutcome("error", error["ename"], error["evalue"], list(error["traceback"]))

    async def _run_remote(self, code: str, *, silent: bool, store_history: bool) -> CellOutcome:
        if not code.strip():
            return CellOutcome()
        from ..display.console import ConsoleRenderer
        from ..sdk.errors import BackendAPIError, BackendClientError, BackendConnectionError, NotFoundError
        from .execution import CellRun

        if (silent or not store_history) and self.remote.ref is None:
            return CellOutcome()  # a frontend probe (VS Code sends these): never start a session for it
        try:
            session_id = await self._cancellable(self.remote.ensure(None if silent else self._status_line()))
            if self._console is None:
                self._console = ConsoleRenderer(session_key=session_id[:8])
            run = CellRun(
                await self._get_client(),
                session_id,
                code,
                console=self._console,
                publish=self._publish,
                ask_input=self._ask_input,
                transport=self._transport_in_use,  # type: ignore[arg-type]
                silent=silent,
            )
            self._cancel = run.interrupt
            try:
                outcome = await run.run()
            finally:
                self._cancel = None
            if self._transport_in_use == "auto" and run.used_websocket is False:
                self._transport_in_use = "rest"  # the server has no execute stream: stop trying it
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
            return self._fail(CellOutcome.failure(type(exc).__name__, _with_next_step(exc)), silent)
        except (BackendAPIError, BackendClientError) as exc:
            if isinstance(exc, NotFoundError):
                self.remote.forget()
                self._console = None
            return self._fail(CellOutcome.failure(type(exc).__name__, _with_next_step(exc)), silent)

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
        from ..sdk.errors import BackendError, NotFoundError

        ref = self.remote.ref
        if ref is None:
            return False
        try:
            info = await (await self._get_client()).sessions.info(ref)
        except NotFoundError:
            return True
        except BackendError:
            return False
        self._gone_reason = info.status_info or ""
        return info.status in GONE_SESSION_STATUSES

    async def _gone(self) -> CellOutcome:
        name = self.remote.name
        if not self._gone_reason:
            with contextlib.suppress(
                Exception
            ):  # only to name the reason (e.g. idle-timeout) if the server knows it
                await asyncio.wait_for(self._session_vanished(), 2.0)
        reason = self._gone_reason
        self._gone_reason = ""
        self.remote.forget()
        self._console = None
        why = f" ({reason})" if reason else ""
        return CellOutcome.failure(
            "SessionTerminated", f"session {name} was terminated{why}; run the cell again to start a new one"
        )

    def _status_line(self) -> Callable[[str, float, bool], None]:
        """A callback showing the session's status as one display updated in place while it starts."""
        line = StatusLine(f"backendai-status-{uuid.uuid4().hex[:12]}")
        shown = False
        name, image = self.remote.name, self.remote.settings.image

        def update(status: str, elapsed: float, final: bool) -> None:
            nonlocal shown
            if final and not shown:
                return  # it started at once: no line to show
            msg_type, content = line.show(status_text(status, session=name, elapsed=elapsed, image=image))
            self._publish(msg_type, content)
            shown = True

        return update

    # -- stdin ---------------------------------------------------------------------------------------

    async def _ask_input(self, prompt: str, password: bool) -> str:
        """Send ``input_request`` and await the reply without blocking the loop (so interrupt still works).

        This is ipykernel's ``raw_input``/``getpass`` protocol, awaited: the sync versions would block
        the event loop that also serves the session's WebSocket.
        """
        if not self._allow_stdin:
            raise StdinNotImplementedError(
                "the code asked for input, but this frontend does not support input requests; "
                "run the cell in JupyterLab/Notebook or give the value in the code"
            )
        if self.session is None or self.stdin_socket is None:
            raise StdinNotImplementedError("the kernel has no stdin channel")
        parent = self.get_parent("shell")  # type: ignore[no-untyped-call]
        if hasattr(self, "_get_shell_context_var"):
            ident = self._get_shell_context_var(self._shell_parent_ident)
        else:  # ipykernel 6
            ident = self._parent_ident["shell"]
        socket = self.stdin_socket
        while True:  # drop stale replies, as ipykernel does
            try:
                socket.recv_multipart(zmq.NOBLOCK)
            except zmq.ZMQError as exc:
                if exc.errno == errno.EAGAIN:
                    break
                raise
        self.session.send(
            socket, "input_request", {"prompt": prompt, "password": password}, parent, ident=ident
        )
        while True:
            if socket.poll(0):
                _, reply = self.session.recv(socket, mode=zmq.NOBLOCK)
                if reply is not None:
                    break
            await asyncio.sleep(0.01)
        value = str(reply.get("content", {}).get("value", ""))
        if value == "\x04":
            raise EOFError("end of input")
        return value

    # -- interrupt, shutdown -------------------------------------------------------------------------

    def _send_interrupt_children(self) -> None:
        # interrupt_mode "message": runs on the control thread; never SIGINT ourselves (it kills the loop)
        cancel, loop = self._cancel, self._shell_loop
        if cancel is not None and loop is not None:
            loop.call_soon_threadsafe(cancel)

    async def do_shutdown(self, restart: bool) -> dict[str, Any]:
        """Jupyter restart -> Backend.AI restart of an owned session; shutdown -> destroy it if owned."""
        self._send_interrupt_children()
        op = self.remote.restart if restart else self.remote.shutdown
        try:
            loop = self._client_loop
            if loop is not None and loop.is_running() and loop is not asyncio.get_running_loop():
                future = asyncio.run_coroutine_threadsafe(op(), loop)
                await asyncio.wait_for(asyncio.wrap_future(future), _SHUTDOWN_TIMEOUT)
            else:
                await asyncio.wait_for(op(), _SHUTDOWN_TIMEOUT)
        except Exception as exc:  # shutting down anyway: say why the session may be left over
            log.warning(
                "could not %s the session %s: %s", "restart" if restart else "end", self.remote.name, exc
            )
        await self._close_clients()
        self.comms.close()
        return {"status": "ok", "restart": restart}

    async def _close_clients(self) -> None:
        loop, client = self._client_loop, self._client
        with contextlib.suppress(Exception):
            if client is not None and loop is not None and loop.is_running():
                if loop is asyncio.get_running_loop():
                    await client.close()
                else:
                    fut = asyncio.run_coroutine_threadsafe(client.close(), loop)
                    await asyncio.wait_for(asyncio.wrap_future(fut), 1.0)

    # -- completion, inspection ----------------------------------------------------------------------

    async def do_complete(self, code: str, cursor_pos: int | None) -> dict[str, Any]:
        """Completions from the session (none before the session exists or when it cannot answer in time)."""
        cursor = len(code) if cursor_pos is None else cursor_pos
        reply: dict[str, Any] = {
            "status": "ok",
            "matches": [],
            "cursor_start": cursor,
            "cursor_end": cursor,
            "metadata": {},
        }
        ref = self.remote.ref
        if ref is None or not code.strip():
            return reply
        from ..sdk.errors import BackendError

        before = code[:cursor]
        row = before.count("\n")
        line_start = before.rfind("\n") + 1
        line_end = code.find("\n", cursor)
        line = code[line_start : line_end if line_end >= 0 else len(code)]
        try:
            client = await self._get_client()
            matches = await asyncio.wait_for(
                client.sessions.complete(
                    ref,
                    before,
                    row=row,
                    col=cursor - line_start,
                    line=line,
                    post=code[cursor : line_end if line_end >= 0 else len(code)],
                ),
                _COMPLETE_TIMEOUT,
            )
        except (BackendError, asyncio.TimeoutError) as exc:
            log.info("completion failed: %s", exc)
            return reply
        matches = [m for m in matches if isinstance(m, str)]
        reply["matches"] = matches
        reply["cursor_start"] = cursor - len(_token_before(before, matches))
        return reply

    async def do_is_complete(self, code: str) -> dict[str, Any]:
        """IPython's answer for Python images; ``unknown`` for other languages."""
        if not self._python:
            return {"status": "unknown"}
        status, indent = self._transformer.check_complete(code)
        reply: dict[str, Any] = {"status": status}
        if status == "incomplete":
            reply["indent"] = " " * (indent or 0)
        return reply

    async def do_inspect(
        self, code: str, cursor_pos: int, detail_level: int = 0, omit_sections: tuple[str, ...] = ()
    ) -> dict[str, Any]:
        """No inspection API in Backend.AI: nothing found."""
        return {"status": "ok", "found": False, "data": {}, "metadata": {}}


class _SessionBinding:
    """What ``%backend attach``/``detach`` may do to this kernel's session (magics.binding.KernelBinding)."""

    def __init__(self, kernel: BackendKernel) -> None:
        self._kernel = kernel

    def current(self) -> tuple[str, bool] | None:
        """The kernel's session as (name, owned), or None before it has one."""
        remote = self._kernel.remote
        return (remote.name, remote.owned) if remote.ref else None

    def attach(self, name: str, session_id: str) -> None:
        """Run the next cells in this existing session (never destroyed by this kernel)."""
        self._kernel.remote.attach_to(name, session_id)
        self._kernel._console = None  # drawings belong to a session

    def detach(self) -> str | None:
        """Stop using the current session; it keeps running."""
        self._kernel._console = None
        return self._kernel.remote.detach()


def _token_before(before: str, matches: list[str]) -> str:
    """The text the matches replace: the dotted name before the cursor if all extend it, else the word."""
    dotted = re.search(r"[\w.]*$", before)
    word = re.search(r"\w*$", before)
    dotted_text = dotted.group(0) if dotted else ""
    if dotted_text and matches and all(m.startswith(dotted_text) for m in matches):
        return dotted_text
    return word.group(0) if word else ""


def _with_next_step(exc: BackendError) -> str:
    """One line: the cause, then what to do (client errors already name their fix)."""
    from ..sdk.errors import BackendClientError

    if isinstance(exc, BackendClientError):
        return f"{_one_line(exc)}; then run the cell again"
    return f"{_one_line(exc)}; {_next_step(exc)}"


def _next_step(exc: BackendError) -> str:
    """What the user can do about an API or client failure."""
    from ..sdk.errors import (
        AuthenticationError,
        BackendConnectionError,
        BackendTimeoutError,
        NotFoundError,
        PermissionDeniedError,
        QuotaExceededError,
    )

    if isinstance(exc, AuthenticationError):
        return "check BACKEND_ACCESS_KEY / BACKEND_SECRET_KEY (see: backendai-jupyter config)"
    if isinstance(exc, PermissionDeniedError):
        return "this keypair may not do that; ask your admin"
    if isinstance(exc, QuotaExceededError):
        return "free resources (end other sessions) or request less"
    if isinstance(exc, NotFoundError):
        return "run the cell again to start a new session"
    if isinstance(exc, BackendTimeoutError):
        return "the server is slow or unreachable; run the cell again, or raise BACKEND_READ_TIMEOUT"
    if isinstance(exc, BackendConnectionError):
        return "check the endpoint and your network (see: backendai-jupyter config), then run the cell again"
    return "run the cell again; if it keeps failing, check the server (see: backendai-jupyter config)"
