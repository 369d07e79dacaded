"""Pure constants of the Backend.AI wire protocol, shared by the SDK client, the local endpoint and above.

Only names and literal values live here: no logic, no I/O. Both ``sdk/`` and ``local/`` import this
module so that neither depends on the other (design.md §2). Facts are from docs/protocol.md.
"""

from __future__ import annotations

from typing import Final

__all__ = [
    "API_VERSIONS",
    "EMPTY_BODY_SHA256",
    "EXECUTE_STATUSES",
    "GONE_SESSION_STATUSES",
    "KERNEL_EVENTS",
    "MANAGER_VERSION_23_09",
    "PROBLEM_PREFIX",
    "READY_SESSION_STATUSES",
    "REST_FLUSH_SECONDS",
    "SESSION_EVENTS",
    "SESSION_NAME_PATTERN",
    "SESSION_STATUSES",
    "STREAM_TERMINAL_STATUSES",
    "TERMINAL_EXECUTE_STATUSES",
    "VERSION_23_09",
    "VERSION_24_03",
    "WS_FLUSH_SECONDS",
]

#: Every version string a 23.09+ manager accepts in ``X-BackendAI-Version`` (protocol.md §3), oldest first.
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

SESSION_STATUSES: Final[tuple[str, ...]] = (
    "PENDING",
    "SCHEDULED",
    "PULLING",
    "PREPARING",
    "RUNNING",
    "RESTARTING",
    "RUNNING_DEGRADED",
    "TERMINATING",
    "TERMINATED",
    "ERROR",
    "CANCELLED",
)

#: Statuses in which a session accepts code.
READY_SESSION_STATUSES: Final[frozenset[str]] = frozenset({"RUNNING", "RUNNING_DEGRADED"})
#: Statuses from which a session never comes back to RUNNING.
GONE_SESSION_STATUSES: Final[frozenset[str]] = frozenset({"TERMINATING", "TERMINATED", "CANCELLED", "ERROR"})

#: Statuses of one execute call (protocol.md §5.1).
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

#: SSE event names a 23.09 manager emits on ``/events/session`` (protocol.md §6).
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
