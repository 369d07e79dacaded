"""Pure constants of the Backend.AI wire protocol, shared by the SDK client, the local endpoint and above.

Only names and literal values live here: no logic, no I/O. Both ``sdk/`` and ``local/`` import this
module so that neither depends on the other (docs/architecture.md). Facts are from docs/protocol.md.
Every shared word of the protocol has its one definition here: statuses and their groups, the events and
the status each announces, transports, limits.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

__all__ = [
    "ACTIVE_SESSION_STATUSES",
    "API_VERSIONS",
    "DEAD_SESSION_STATUSES",
    "EMPTY_BODY_SHA256",
    "EVENT_STATUS",
    "EXECUTE_STATUSES",
    "FINAL_EVENT_STATUSES",
    "GONE_SESSION_STATUSES",
    "KERNEL_EVENTS",
    "MANAGER_VERSION_23_09",
    "MAX_WS_MESSAGE_SIZE",
    "PROBLEM_PREFIX",
    "READY_SESSION_STATUSES",
    "REST_FLUSH_SECONDS",
    "SESSION_EVENTS",
    "SESSION_NAME_PATTERN",
    "SESSION_STATUSES",
    "STARTING_SESSION_STATUSES",
    "STREAM_TERMINAL_STATUSES",
    "TERMINAL_EXECUTE_STATUSES",
    "TRANSPORTS",
    "VERSION_23_09",
    "VERSION_24_03",
    "WS_FLUSH_SECONDS",
]

#: Every version a 23.09+ manager accepts in ``X-BackendAI-Version``, oldest first (docs/protocol.md §3).
API_VERSIONS: Final[tuple[str, ...]] = (
    "v4.20181215",
    "v4.20190115",
    "v4.20190315",
    "v4.20190615",
    "v5.20191215",
    "v6.20200815",
    "v6.20210815",
    "v6.20220315",
    "v6.20220615",
    "v6.20230315",
    "v7.20230615",
    "v8.20240315",
    "v8.20240915",
)

#: What a 23.09 manager reports on ``GET /``.
VERSION_23_09: Final = "v7.20230615"
MANAGER_VERSION_23_09: Final = "23.09.10"
#: What the realstack (24.03) reports.
VERSION_24_03: Final = "v8.20240315"

#: Prefix of every problem+json ``type`` URI.
PROBLEM_PREFIX: Final = "https://api.backend.ai/probs/"

#: sha256 of the empty body; signed in place of the body hash for every version >= v4.20181215.
EMPTY_BODY_SHA256: Final = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

#: Session names: 4-64 ASCII word characters, dots and dashes, not starting or ending with either.
SESSION_NAME_PATTERN: Final = r"^(?=.{4,64}$)\w[\w.-]*\w$"

#: Every status a session (or its main kernel) reports, in lifecycle order.
SESSION_STATUSES: Final[tuple[str, ...]] = (
    "PENDING",
    "SCHEDULED",
    "PREPARING",
    "PULLING",
    "PREPARED",
    "CREATING",
    "RUNNING",
    "RESTARTING",
    "RUNNING_DEGRADED",
    "TERMINATING",
    "TERMINATED",
    "ERROR",
    "CANCELLED",
)

#: Statuses of a session that is still being started (queued, scheduled, pulling its image...).
STARTING_SESSION_STATUSES: Final[frozenset[str]] = frozenset(
    {"PENDING", "SCHEDULED", "PREPARING", "PULLING", "PREPARED", "CREATING"}
)
#: Statuses in which a session accepts code.
READY_SESSION_STATUSES: Final[frozenset[str]] = frozenset({"RUNNING", "RUNNING_DEGRADED"})
#: Statuses from which a session never comes back to RUNNING: nothing may attach to or run in it.
GONE_SESSION_STATUSES: Final[frozenset[str]] = frozenset({"TERMINATING", "TERMINATED", "CANCELLED", "ERROR"})
#: Statuses of a session that is over (``ps --dead``).
DEAD_SESSION_STATUSES: Final[tuple[str, ...]] = ("TERMINATED", "CANCELLED", "ERROR")
#: Statuses of a session that still holds or waits for resources (``ps``, the picker's list), in order.
ACTIVE_SESSION_STATUSES: Final[tuple[str, ...]] = tuple(
    s for s in SESSION_STATUSES if s not in DEAD_SESSION_STATUSES
)

#: Statuses of one execute call (docs/protocol.md §5.1).
EXECUTE_STATUSES: Final[tuple[str, ...]] = (
    "continued",
    "waiting-input",
    "finished",
    "clean-finished",
    "build-finished",
    "exec-timeout",
)
TERMINAL_EXECUTE_STATUSES: Final[frozenset[str]] = frozenset({"finished", "exec-timeout"})
#: Statuses that end a run on the execute WebSocket: the terminal ones plus the stream's own error reports.
STREAM_TERMINAL_STATUSES: Final[frozenset[str]] = frozenset(
    {"finished", "exec-timeout", "error", "server-restarting"}
)

#: Flush windows of the agent: a REST execute call returns ``continued`` after this long.
REST_FLUSH_SECONDS: Final = 2.0
WS_FLUSH_SECONDS: Final = 0.2

#: SSE event names a 23.09 manager emits on ``/events/session`` (docs/protocol.md §6).
SESSION_EVENTS: Final[tuple[str, ...]] = (
    "session_enqueued",
    "session_scheduled",
    "session_started",
    "session_terminating",
    "session_terminated",
    "session_cancelled",
    "session_success",
    "session_failure",
)
KERNEL_EVENTS: Final[tuple[str, ...]] = (
    "kernel_preparing",
    "kernel_pulling",
    "kernel_creating",
    "kernel_started",
    "kernel_terminating",
    "kernel_terminated",
    "kernel_cancelled",
)

#: The status each lifecycle event announces (session and kernel scope; v4 servers send ``kernel_*``
#: names for session events). ``SUCCESS``/``FAILURE`` are the batch outcome of a session that ended.
EVENT_STATUS: Final[Mapping[str, str]] = {
    "session_enqueued": "PENDING",
    "kernel_enqueued": "PENDING",
    "session_scheduled": "SCHEDULED",
    "kernel_preparing": "PREPARING",
    "kernel_pulling": "PULLING",
    "kernel_creating": "CREATING",
    "session_started": "RUNNING",
    "kernel_started": "RUNNING",
    "session_terminating": "TERMINATING",
    "kernel_terminating": "TERMINATING",
    "session_terminated": "TERMINATED",
    "kernel_terminated": "TERMINATED",
    "session_cancelled": "CANCELLED",
    "kernel_cancelled": "CANCELLED",
    "session_success": "SUCCESS",
    "kernel_success": "SUCCESS",
    "session_failure": "FAILURE",
    "kernel_failure": "FAILURE",
}
#: Statuses announced by an event after which the session changes no more.
FINAL_EVENT_STATUSES: Final[frozenset[str]] = frozenset({"TERMINATED", "CANCELLED", "SUCCESS", "FAILURE"})

#: How a cell reaches the session's runner: ``auto`` picks the best the server offers.
TRANSPORTS: Final[tuple[str, ...]] = ("auto", "websocket", "rest")

#: The manager's ``max-wsmsg-size``: the largest WebSocket message either side takes (docs/protocol.md §5.2).
MAX_WS_MESSAGE_SIZE: Final = 16 * 1024 * 1024
