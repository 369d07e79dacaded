"""Input prompts on the kernel's stdin channel, awaited so that the event loop keeps serving.

This is ipykernel's ``raw_input``/``getpass`` protocol made awaitable: the blocking versions would stop the
loop that also carries the session's WebSocket and the interrupt.
"""

from __future__ import annotations

import asyncio
import errno
from typing import TYPE_CHECKING, Any

import zmq
from IPython.core.error import StdinNotImplementedError

if TYPE_CHECKING:
    from ipykernel.kernelbase import Kernel

__all__ = ["ask_frontend"]

#: How often the stdin socket is checked for the reply.
_POLL = 0.01


def _shell_ident(kernel: Kernel) -> Any:
    """The identity of the shell request being handled (where ipykernel keeps it differs by version)."""
    if hasattr(kernel, "_get_shell_context_var"):  # ipykernel 7
        return kernel._get_shell_context_var(kernel._shell_parent_ident)
    return kernel._parent_ident["shell"]  # ipykernel 6


async def ask_frontend(kernel: Kernel, prompt: str, password: bool, *, allowed: bool) -> str:
    """Send ``input_request`` for the current shell request and await the reply's value."""
    if not allowed:
        raise StdinNotImplementedError(
            "the code asked for input, but this frontend does not support input requests; "
            "run the cell in JupyterLab/Notebook or give the value in the code"
        )
    session, socket = kernel.session, kernel.stdin_socket
    if session is None or socket is None:
        raise StdinNotImplementedError("the kernel has no stdin channel")
    parent = kernel.get_parent("shell")  # type: ignore[no-untyped-call]
    ident = _shell_ident(kernel)
    while True:  # drop stale replies, as ipykernel does
        try:
            socket.recv_multipart(zmq.NOBLOCK)
        except zmq.ZMQError as exc:
            if exc.errno == errno.EAGAIN:
                break
            raise
    session.send(socket, "input_request", {"prompt": prompt, "password": password}, parent, ident=ident)
    while True:
        if socket.poll(0):
            _, reply = session.recv(socket, mode=zmq.NOBLOCK)
            if reply is not None:
                break
        await asyncio.sleep(_POLL)
    value = str(reply.get("content", {}).get("value", ""))
    if value == "\x04":
        raise EOFError("end of input")
    return value
