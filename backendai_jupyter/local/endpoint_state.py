"""What the parts of one local endpoint share: its users, its data dir and the two directories they look up.

The manager-side parts (sessions, execution, events, GraphQL, auth) and the storage parts (vfolders, storage
proxy, session files) meet only through :class:`LocalContext` and the two directory protocols here; the keys
under which the apps keep these objects are in ``context.py``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

__all__ = ["LocalContext", "SessionDirectory", "User", "VFolderDirectory"]


@dataclass(frozen=True)
class User:
    """A user of the local endpoint and their keypair."""

    email: str
    access_key: str
    secret_key: str = field(repr=False)
    role: str = "superadmin"
    uuid: str = ""
    domain: str = "default"
    group: str = "default"


class SessionDirectory(Protocol):
    """How the storage parts find a session's scratch folder (the manager parts implement it)."""

    def workdir_of(self, access_key: str, name_or_id: str) -> Path:
        """The scratch folder of an active session of ``access_key``; raises ``Problem`` 404 otherwise."""
        ...


class VFolderDirectory(Protocol):
    """How the manager parts find a vfolder to mount (the storage parts implement it)."""

    def path_of(self, access_key: str, name: str) -> Path:
        """The folder of vfolder ``name`` visible to ``access_key``; raises ``Problem`` 404 otherwise."""
        ...

    def list_for(self, access_key: str) -> list[dict[str, Any]]:
        """The vfolders visible to ``access_key``, as ``GET /folders`` lists them (also used by GraphQL)."""
        ...


@dataclass
class LocalContext:
    """State shared by every handler of one running local endpoint."""

    data_dir: Path
    #: base URL of the storage-proxy emulation, e.g. ``http://127.0.0.1:8081/storage`` (set once bound)
    storage_url: str = ""
    #: secret for signing storage-proxy tokens (generated per data dir)
    token_secret: bytes = b""
    users: dict[str, User] = field(default_factory=dict)  # by access key
    sessions: SessionDirectory | None = None
    vfolders: VFolderDirectory | None = None
