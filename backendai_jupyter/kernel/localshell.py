"""The kernel's local IPython shell: ``%backend``/``%%backend``/``%%local`` code runs here, not remotely."""

from __future__ import annotations

import asyncio
import builtins
import concurrent.futures
import contextlib
import contextvars
import ctypes
import getpass
import re
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from IPython.core.displayhook import DisplayHook
from IPython.core.displaypub import DisplayPublisher
from IPython.core.interactiveshell import InteractiveShell
from traitlets import Type

from ..cellrun.frontend import AskInput, Publish

__all__ = ["LocalShell", "Segment", "split_cell"]

#: How often a thread waiting for an input reply lets an interrupt in.
_INPUT_POLL = 0.1

_LOCAL_CELL = re.compile(r"^\s*%%(backend|local)\b")
_LOCAL_LINE = re.compile(r"^%backend\b")


@dataclass(frozen=True)
class Segment:
    """A run of lines of one cell and where it runs."""

    code: str
    local: bool


def split_cell(code: str) -> list[Segment]:
    """Split a cell into local and remote parts.

    A ``%%backend``/``%%local`` cell is all local; otherwise runs of lines starting with ``%backend`` are
    local and the lines between them remote.
    """
    match = _LOCAL_CELL.match(code)
    if match:
        if match.group(1) == "local":  # %%local is ours, not a magic: its body is plain local code
            body = code.split("\n", 1)[1] if "\n" in code else ""
            return [Segment(body, True)]
        return [Segment(code, True)]
    if not any(_LOCAL_LINE.match(line) for line in code.splitlines()):
        return [Segment(code, False)]
    segments: list[Segment] = []
    for line in code.splitlines(keepends=True):
        local = bool(_LOCAL_LINE.match(line))
        if segments and segments[-1].local == local:
            segments[-1] = Segment(segments[-1].code + line, local)
        else:
            segments.append(Segment(line, local))
    return [s for s in segments if s.local or s.code.strip()]


def _flush_streams() -> None:
    # what was printed goes out before the display/error/prompt that follows it, as in ipykernel
    sys.stdout.flush()
    sys.stderr.flush()


def _send(shell: Any, msg_type: str, content: dict[str, Any]) -> None:
    shell.send(msg_type, content)  # shell is the _Shell that made the hook/publisher


class _Publisher(DisplayPublisher):
    """Sends ``display()`` calls of the local shell to the frontend as display_data/update_display_data."""

    def publish(
        self,
        data: dict[str, Any],
        metadata: dict[str, Any] | None = None,
        source: str | None = None,
        *,
        transient: dict[str, Any] | None = None,
        update: bool = False,
        **kwargs: Any,
    ) -> None:
        content: dict[str, Any] = {"data": data, "metadata": metadata or {}, "transient": transient or {}}
        _send(self.shell, "update_display_data" if update else "display_data", content)

    def clear_output(self, wait: bool = False) -> None:
        _send(self.shell, "clear_output", {"wait": wait})


class _DisplayHook(DisplayHook):
    """Shows a local cell's last value as display_data (rich reprs too), not as ``Out[n]:`` text."""

    def write_output_prompt(self) -> None:
        pass  # the cell's number belongs to the kernel, not to this shell

    def write_format_data(self, format_dict: dict[str, Any], md_dict: dict[str, Any] | None = None) -> None:
        _send(self.shell, "display_data", {"data": format_dict, "metadata": md_dict or {}, "transient": {}})

    def finish_displayhook(self) -> None:
        pass


class _Shell(InteractiveShell):
    """IPython's shell whose displays and errors become kernel messages (one ``error`` per failure)."""

    displayhook_class = Type(_DisplayHook)
    display_pub_class = Type(_Publisher)

    def __init__(self, publish: Publish, kernel: Any = None) -> None:
        self._kernel_publish = publish
        #: the kernel whose comms reach the front end (ipywidgets and the pickers look for ``shell.kernel``)
        self.kernel = kernel
        #: the errors of the cell being run; not published when the request is silent
        self.cell_errors: list[dict[str, Any]] = []
        self.silent_errors = False
        super().__init__(colors="neutral", autocall=0, autoawait=True)  # type: ignore[no-untyped-call]

    def send(self, msg_type: str, content: dict[str, Any]) -> None:
        """Publish one message after what was printed before it."""
        _flush_streams()
        self._kernel_publish(msg_type, content)

    def _report(self, ename: str, evalue: str, traceback: list[str]) -> None:
        content = {"ename": ename, "evalue": evalue, "traceback": traceback}
        self.cell_errors.append(content)
        if not self.silent_errors:
            self.send("error", content)

    def _showtraceback(self, etype: type[BaseException], evalue: BaseException, stb: list[str]) -> None:
        # like ipykernel's shell: one `error` message instead of traceback text on stdout
        self._report(etype.__name__, str(evalue), stb)

    def show_usage_error(self, exc: BaseException) -> None:
        # a UsageError is one line, never a traceback
        self._report("UsageError", str(exc), [f"UsageError: {exc}"])


class LocalShell:
    """A private IPython shell in the kernel process (so magics and widgets work in the remote kernel too).

    Cells run in one worker thread, so that they may block (the magics wait on the SDK) while the kernel's
    event loop keeps serving: ``input()``/``getpass()`` become input requests awaited on that loop, and
    :meth:`interrupt` raises ``KeyboardInterrupt`` in the worker.
    """

    def __init__(self, publish: Publish, ask_input: AskInput, *, kernel: Any = None) -> None:
        # display() and get_ipython() in library code look for the process's shell: be it (the base kernel
        # has none), unless this process already has one
        if InteractiveShell.initialized():
            self.shell = _Shell(publish, kernel)
        else:
            self.shell = _Shell.instance(publish, kernel)
        self._ask_input = ask_input
        self._loop: asyncio.AbstractEventLoop | None = None
        self._worker = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="backendai-local")
        self._guard = threading.Lock()
        self._running: int | None = None  # the worker's thread id while a cell runs
        self._load_magics()

    def _load_magics(self) -> None:
        manager = self.shell.extension_manager
        if manager is not None:
            # without them %backend is an unknown magic, and each cell says so
            with contextlib.suppress(Exception):
                manager.load_extension("backendai_jupyter.magics")

    async def run(self, code: str, *, silent: bool = False) -> dict[str, Any] | None:
        """Run ``code``; return the error content if it failed, else None."""
        self._loop = asyncio.get_running_loop()
        # the copied context carries the request's parent header to the worker (sys.stdout, displays)
        context = contextvars.copy_context()
        return await self._loop.run_in_executor(self._worker, context.run, self._run_here, code, silent)

    def interrupt(self) -> None:
        """Raise ``KeyboardInterrupt`` in the running cell (callable from any thread); nothing when idle."""
        with self._guard:
            if self._running is not None:
                ctypes.pythonapi.PyThreadState_SetAsyncExc(
                    ctypes.c_ulong(self._running), ctypes.py_object(KeyboardInterrupt)
                )

    # -- in the worker thread ------------------------------------------------------------------------

    def _run_here(self, code: str, silent: bool) -> dict[str, Any] | None:
        shell = self.shell
        shell.cell_errors.clear()
        shell.silent_errors = silent
        try:
            try:
                with self._interruptible(), self._forward_input():
                    run = shell.run_cell
                    result = run(code, store_history=False, silent=silent)  # type: ignore[no-untyped-call]
            finally:
                _flush_streams()
            return self._outcome(result)
        except KeyboardInterrupt:  # it came outside the user's code (IPython's own steps, the flush)
            shell._report("KeyboardInterrupt", "interrupted", ["KeyboardInterrupt"])
            return shell.cell_errors[-1]

    @contextlib.contextmanager
    def _interruptible(self) -> Iterator[None]:
        with self._guard:
            self._running = threading.get_ident()
        try:
            yield
        finally:
            with self._guard:
                self._running = None
            # an interrupt sent just before this point arrives in the next Python call: inside _run_here's
            # try, never in the idle worker

    def _outcome(self, result: Any) -> dict[str, Any] | None:
        if result.success:
            return None
        if self.shell.cell_errors:
            return self.shell.cell_errors[-1]
        error = result.error_in_exec or result.error_before_exec
        return {"ename": type(error).__name__, "evalue": str(error), "traceback": []}

    @contextlib.contextmanager
    def _forward_input(self) -> Iterator[None]:
        """``input()``/``getpass()`` of the cell ask the front end (as ipykernel does for its shell)."""
        saved = builtins.input, getpass.getpass
        builtins.input = self._input
        getpass.getpass = self._getpass
        try:
            yield
        finally:
            builtins.input, getpass.getpass = saved

    def _input(self, prompt: object = "") -> str:
        return self._ask(str(prompt), password=False)

    def _getpass(self, prompt: str = "Password: ", stream: Any = None) -> str:
        return self._ask(prompt, password=True)

    def _ask(self, prompt: str, *, password: bool) -> str:
        if self._loop is None:
            raise EOFError("no kernel loop to ask the front end through")
        _flush_streams()
        future = asyncio.run_coroutine_threadsafe(self._ask_input(prompt, password), self._loop)
        try:
            while True:  # short waits: an interrupt can only enter this thread between them
                try:
                    return future.result(_INPUT_POLL)
                except concurrent.futures.TimeoutError:  # not yet the builtin TimeoutError on 3.10
                    continue
        finally:
            future.cancel()  # interrupted: stop waiting for the reply
