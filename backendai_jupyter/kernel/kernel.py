"""The "Backend.AI (remote)" Jupyter kernel: ipykernel's hooks, each handing its work to one module.

Remote parts of a cell go to ``remote.RemoteCells`` (the session and the cell runs), ``%backend`` lines and
``%%local`` cells to ``localshell.LocalShell``; input prompts to ``stdin``, completion to the session.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from pathlib import Path
from typing import Any

from ipykernel.iostream import OutStream
from ipykernel.kernelbase import Kernel
from IPython.core.inputtransformer2 import TransformerManager
from jupyter_core.paths import jupyter_runtime_dir

from .._version import __version__
from ..cellrun import CellOutcome, bind_kernel, one_line
from ..sdk.config import APIConfig
from .binding import SessionBinding
from .comms import KernelComms
from .config import BackendKernelConfig
from .language import language_info_for
from .localshell import LocalShell, split_cell
from .remote import RemoteCells
from .session import SessionSettings, session_name_for
from .stdin import ask_frontend

__all__ = ["BackendKernel"]

log = logging.getLogger(__name__)


def _log_to_process_stderr() -> None:
    """Send our log records to the kernel process's stderr, never into the notebook as stream output."""
    pkg = logging.getLogger("backendai_jupyter")
    if not pkg.handlers:
        handler = logging.StreamHandler(sys.__stderr__)
        handler.setFormatter(logging.Formatter("[backendai-kernel] %(levelname)s | %(message)s"))
        pkg.addHandler(handler)
        pkg.propagate = False


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
            self._config_error = one_line(exc)
            settings = SessionSettings("python", {}, [], {}, name=session_name_for(connection_file))
            transport, state_dir = "auto", self._default_state_dir(connection_file)
        self.language_info = language_info_for(settings.image)
        self._python = self.language_info["name"] == "python"
        self.remote = RemoteCells(
            settings,
            state_dir=state_dir,
            api_config=self._api_config,
            transport=transport,
            publish=self._publish,
            ask_input=self._ask_input,
        )
        self._shell_loop: asyncio.AbstractEventLoop | None = None
        self._allow_stdin = False
        self._local: LocalShell | None = None
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

    def _api_config(self) -> APIConfig:
        return APIConfig(endpoint=self.endpoint or None, domain=self.domain or None, group=self.group or None)

    def set_parent(self, ident: Any, parent: dict[str, Any], channel: str = "shell") -> None:
        """Also parent sys.stdout/sys.stderr (as IPython's kernel does): local output shows under its cell."""
        super().set_parent(ident, parent, channel)  # type: ignore[no-untyped-call]
        if channel == "shell":
            for stream in (sys.stdout, sys.stderr):
                if isinstance(stream, OutStream):
                    stream.set_parent(parent)  # type: ignore[no-untyped-call]

    def _publish(self, msg_type: str, content: dict[str, Any]) -> None:
        self.send_response(self.iopub_socket, msg_type, content)  # type: ignore[no-untyped-call]

    async def _ask_input(self, prompt: str, password: bool) -> str:
        return await ask_frontend(self, prompt, password, allowed=self._allow_stdin)

    def _reply(self, outcome: CellOutcome) -> dict[str, Any]:
        if outcome.status == "error":
            return {"status": "error", "execution_count": self.execution_count, **outcome.content()}
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
        try:
            outcome = await self._execute(code, silent=silent, store_history=store_history)
        except (Exception, asyncio.CancelledError) as exc:  # every path replies: never a hung cell
            if isinstance(exc, asyncio.CancelledError):
                outcome = CellOutcome.failure("KeyboardInterrupt", "interrupted")
            else:
                log.exception("cell failed inside the kernel")
                outcome = CellOutcome.failure(type(exc).__name__, one_line(exc))
            if not silent:
                self._publish("error", outcome.content())
        return self._reply(outcome)

    async def _execute(self, code: str, *, silent: bool, store_history: bool) -> CellOutcome:
        if self._config_error and code.strip():
            outcome = CellOutcome.failure("ConfigError", f"{self._config_error}; fix it and restart")
            if not silent:
                self._publish("error", outcome.content())
            return outcome
        for segment in split_cell(code):
            if segment.local:
                outcome = await self._run_local(segment.code, silent=silent)
            else:
                outcome = await self.remote.run(segment.code, silent=silent, store_history=store_history)
            if outcome.status == "error":
                return outcome
        return CellOutcome()

    async def _run_local(self, code: str, *, silent: bool) -> CellOutcome:
        if self._local is None:
            self._local = LocalShell(self._publish, self._ask_input, kernel=self)
            bind_kernel(self._local.shell, SessionBinding(self.remote))
        error = await self._local.run(code, silent=silent)
        return CellOutcome() if error is None else CellOutcome.from_error(error)

    # -- interrupt, shutdown -------------------------------------------------------------------------

    def _send_interrupt_children(self) -> None:
        # interrupt_mode "message": runs on the control thread; never SIGINT ourselves (it kills the loop)
        loop = self._shell_loop
        if loop is not None:
            loop.call_soon_threadsafe(self._interrupt_running)

    def _interrupt_running(self) -> None:
        # both are no-ops when idle: only the part of the cell that runs now is stopped
        if self._local is not None:
            self._local.interrupt()
        self.remote.interrupt()

    async def do_shutdown(self, restart: bool) -> dict[str, Any]:
        """Jupyter restart -> Backend.AI restart of an owned session; shutdown -> destroy it if owned."""
        self._send_interrupt_children()
        await self.remote.end(restart=restart)
        self.comms.close()
        return {"status": "ok", "restart": restart}

    # -- completion, inspection ----------------------------------------------------------------------

    async def do_complete(self, code: str, cursor_pos: int | None) -> dict[str, Any]:
        """Completions from the session (none before the session exists or when it cannot answer in time)."""
        return await self.remote.complete(code, len(code) if cursor_pos is None else cursor_pos)

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
