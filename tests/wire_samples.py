"""What real Backend.AI servers and runners send, shared by the tests (imported by name, as endpoint_support).

Sources: docs/runner.md §2.2 (the 1.4.2 runner's drawing batches) and realstack captures (lifecycle events).
"""

from __future__ import annotations

from typing import Any

#: The two sorna-drawing batches Backend.AI's 1.4.2 runner sent for ``DRAWING_CODE`` (docs/runner.md §2.2).
RUNNER_DRAWING_BATCHES: list[list[list[Any]]] = [
    [
        [0, "canvas", 100, 80, "#ffffffff", "#000000ff"],
        [0, "obj", 0, ["circle", 50, 40, 20, "#000000ff", "#ff0000ff", 0]],
    ],
    [
        [0, "obj", 1, ["triangle", 50.0, 40.0, 12, 18, "#ff0000ff", "#ffc8c8ff", 90]],
        [0, "begin-group"],
        [0, "obj", 2, ["line", 50.0, 40.0, 80.0, 40.0, "#ff000080"]],
        [0, "update", 1, "x", 80.0],
        [0, "update", 1, "y", 40.0],
        [0, "end-group"],
    ],
]  # fmt: skip
#: The code that drew them, with this package's drawing module in place of Backend.AI's.
DRAWING_CODE = """\
from backendai_jupyter.drawing import Canvas, Colors
c = Canvas(100, 80)
c.circle(50, 40, 20, fill=Colors.Red)
c.update()
t = c.create_turtle()
t.forward(30)
c.update()
"""

#: The lifecycle events a real manager sends for create + destroy of one session, in order.
LIFECYCLE_EVENTS = [
    "session_enqueued",
    "session_scheduled",
    "kernel_preparing",
    "kernel_creating",
    "kernel_started",
    "session_started",
    "session_terminating",
    "kernel_terminating",
    "kernel_terminated",
    "session_terminated",
]
#: The fields every lifecycle event's data carries.
EVENT_DATA_KEYS = frozenset({"reason", "sessionName", "ownerAccessKey", "sessionId", "exitCode"})
