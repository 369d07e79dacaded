"""The run of one cell in a remote session, shared by the kernel and the magics.

``run.CellRun`` is the loop; ``transport`` is the seam a way of reaching the session plugs into
(``execute_api`` has the execute API's WebSocket and REST transports); ``outcome`` and ``frontend`` are the
words both sides speak; ``hints`` says what to do after a failure; ``binding`` lets the magics rebind the
kernel's session without either importing the other.
"""

from __future__ import annotations

from .binding import KernelBinding, bind_kernel, kernel_binding, unbind_kernel
from .frontend import AskInput, Publish
from .hints import KERNEL, MAGICS, Surface, next_step, one_line, with_next_step
from .outcome import CellOutcome, SessionFailed, SessionGone
from .run import INTERRUPT_GRACE, CellRun
from .transport import InputRequest, Output, RunEnd, RunEvent, Transport, TransportName, transport_order

__all__ = [
    "INTERRUPT_GRACE",
    "KERNEL",
    "MAGICS",
    "AskInput",
    "CellOutcome",
    "CellRun",
    "InputRequest",
    "KernelBinding",
    "Output",
    "Publish",
    "RunEnd",
    "RunEvent",
    "SessionFailed",
    "SessionGone",
    "Surface",
    "Transport",
    "TransportName",
    "bind_kernel",
    "kernel_binding",
    "next_step",
    "one_line",
    "transport_order",
    "unbind_kernel",
    "with_next_step",
]
