"""Session records and create specs of the local endpoint: what is persisted in ``sessions.json``."""

from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from typing import Any

from ..wire import DEAD_SESSION_STATUSES, SESSION_STATUSES

__all__ = ["ACTIVE_STATUSES", "ENDED_STATUSES", "SETTLED_STATUSES", "SessionRecord", "SessionSpec", "now_iso"]

#: Statuses of a session that still holds (or waits for) a kernel and answers to its name: every status but
#: TERMINATED and CANCELLED. Unlike ``wire.ACTIVE_SESSION_STATUSES`` this keeps ERROR: here a session is ERROR
#: only after a failed restart, and it stays findable so that it can be destroyed.
ACTIVE_STATUSES = frozenset(SESSION_STATUSES) - (frozenset(DEAD_SESSION_STATUSES) - {"ERROR"})
#: Statuses of a session that is over for good: TERMINATED and CANCELLED.
ENDED_STATUSES = frozenset(SESSION_STATUSES) - ACTIVE_STATUSES
#: Statuses after which a create call stops waiting: RUNNING, or dead (TERMINATED, CANCELLED, ERROR).
#: RUNNING_DEGRADED is left out because the local endpoint never reports it.
SETTLED_STATUSES = frozenset({"RUNNING"}) | frozenset(DEAD_SESSION_STATUSES)


def now_iso() -> str:
    """The current time as the manager formats it (ISO 8601 with the UTC offset)."""
    return datetime.now(timezone.utc).isoformat()


@dataclass
class SessionSpec:
    """A validated create request (createparams.py builds it from the docs/protocol.md §4.1 body)."""

    name: str
    image: str
    python: str
    type: str = "interactive"
    architecture: str = "x86_64"
    domain: str = "default"
    group: str = "default"
    cluster_mode: str = "single-node"
    cluster_size: int = 1
    tag: str | None = None
    startup_command: str | None = None
    bootstrap_script: str | None = None
    callback_url: str | None = None
    starts_at: float | None = None
    dependencies: list[str] = field(default_factory=list)
    environ: dict[str, str] = field(default_factory=dict)
    mounts: dict[str, str] = field(default_factory=dict)  # symlink name in the scratch folder -> vfolder path
    mount_names: list[str] = field(default_factory=list)
    resources: dict[str, str] = field(default_factory=dict)
    resource_opts: dict[str, Any] = field(default_factory=dict)
    preopen_ports: list[int] = field(default_factory=list)
    scaling_group: str = "default"


@dataclass
class SessionRecord:
    """What the registry knows and persists about one session."""

    id: str
    owner: str
    spec: SessionSpec
    status: str = "PENDING"
    status_info: str | None = None
    status_data: dict[str, Any] = field(default_factory=dict)
    created_at: str = field(default_factory=now_iso)
    status_changed: str = field(default_factory=now_iso)
    terminated_at: str | None = None
    result: str = "UNDEFINED"
    num_queries: int = 0
    kernel_id: str = field(default_factory=lambda: str(uuid.uuid4()))

    @property
    def name(self) -> str:
        """The session name (renamable)."""
        return self.spec.name

    def to_json(self) -> dict[str, Any]:
        """A JSON-able dict (persisted)."""
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SessionRecord:
        """The record back from :meth:`to_json`."""
        spec = SessionSpec(**data.pop("spec"))
        return cls(spec=spec, **data)
