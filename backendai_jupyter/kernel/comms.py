"""Jupyter comms for the remote kernel, so that ipywidgets in its local shell reach the front end."""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextvars
import logging
import sys
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import comm
from comm.base_comm import BaseComm, BuffersType, CommManager, MaybeDict

if TYPE_CHECKING:
    from ipykernel.kernelbase import Kernel

__all__ = ["COMM_MESSAGES", "KernelComm", "KernelComms"]

log = logging.getLogger(__name__)

#: The shell messages a front end sends about comms.
COMM_MESSAGES = ("comm_open", "comm_msg", "comm_close")

ShellHandler = Callable[[Any, list[bytes], dict[str, Any]], Awaitable[None]]


class KernelComm(BaseComm):
    """A comm whose messages go out on the kernel's iopub channel, under the request being handled."""

    def __init__(self, *args: Any, kernel: Kernel, **kwargs: Any) -> None:
        self.kernel = kernel  # before BaseComm.__init__: a primary comm publishes its comm_open there
        super().__init__(*args, **kwargs)

    def publish_msg(
        self,
        msg_type: str,
        data: MaybeDict = None,
        metadata: MaybeDict = None,
        buffers: BuffersType = None,
        **keys: Any,
    ) -> None:
        """Send one comm message; callable from any thread (the kernel's iopub socket is thread-safe)."""
        kernel = self.kernel
        if kernel.session is None:
            return  # the kernel is shutting down
        content = {"data": {} if data is None else data, "comm_id": self.comm_id, **keys}
        kernel.session.send(
            kernel.iopub_socket,
            msg_type,
            content,
            metadata=metadata or {},
            # the request this thread serves (the cell, or the comm_msg whose callback runs)
            parent=kernel.get_parent("shell"),  # type: ignore[no-untyped-call]
            ident=self.topic,
            buffers=list(buffers) if buffers else None,
        )


class KernelComms:
    """The kernel's comm manager, the ``comm`` package hooks, and the thread comm callbacks run in.

    Incoming comm messages are handled on one worker thread, in order, not on the kernel's event loop:
    widget callbacks may block (the pickers wait on the sync SDK, whose own loop thread is a third
    thread), and the kernel keeps answering meanwhile; a cell running in the local shell may wait for a
    widget's value, because comm messages do not wait for the cell.
    """

    def __init__(self, kernel: Kernel) -> None:
        self.kernel = kernel
        self.manager = CommManager()
        self._worker: concurrent.futures.ThreadPoolExecutor | None = None
        comm.create_comm = self.create_comm
        comm.get_comm_manager = self.get_comm_manager
        _log_to_process_stderr(logging.getLogger("Comm"))  # the comm package's own warnings
        if "ipywidgets" in sys.modules:
            # imported before these hooks existed: its comm targets went to another manager
            sys.modules["ipywidgets"].register_comm_target()

    def create_comm(self, *args: Any, **kwargs: Any) -> BaseComm:
        """The ``comm.create_comm`` hook: a comm of this kernel."""
        return KernelComm(*args, kernel=self.kernel, **kwargs)

    def get_comm_manager(self) -> CommManager:
        """The ``comm.get_comm_manager`` hook: this kernel's manager."""
        return self.manager

    def handlers(self) -> dict[str, ShellHandler]:
        """Shell handlers for comm_open/comm_msg/comm_close (for ``Kernel.shell_handlers``)."""
        return {msg_type: self._handler(msg_type) for msg_type in COMM_MESSAGES}

    def _handler(self, msg_type: str) -> ShellHandler:
        handle = getattr(self.manager, msg_type)

        async def handler(stream: Any, ident: list[bytes], msg: dict[str, Any]) -> None:
            if self._worker is None:
                self._worker = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="backendai-comm")
            # the copied context carries this message as the parent of what the callbacks publish
            context = contextvars.copy_context()
            loop = asyncio.get_running_loop()
            await loop.run_in_executor(self._worker, context.run, _call, handle, stream, ident, msg)

        return handler

    def close(self) -> None:
        """Stop the callback thread (a running callback finishes on its own)."""
        worker, self._worker = self._worker, None
        if worker is not None:
            worker.shutdown(wait=False, cancel_futures=True)


def _log_to_process_stderr(logger: logging.Logger) -> None:
    # unhandled records would go to sys.stderr, which in a kernel is the notebook's stderr stream
    if not logger.handlers:
        handler = logging.StreamHandler(sys.__stderr__)
        handler.setFormatter(logging.Formatter("[backendai-kernel] %(levelname)s | %(name)s: %(message)s"))
        logger.addHandler(handler)
        logger.propagate = False


def _call(handle: Callable[..., None], stream: Any, ident: list[bytes], msg: dict[str, Any]) -> None:
    try:
        handle(stream, ident, msg)
    except BaseException:  # a callback must never take the comm thread (or the kernel) down
        log.exception("comm message %s failed", msg.get("header", {}).get("msg_type"))
    finally:
        for stream_ in (sys.stdout, sys.stderr):  # what a callback printed goes out before "idle"
            if stream_ is not None:
                stream_.flush()
