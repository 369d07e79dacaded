"""Resources of the SDK client: sessions, execution, events, vfolders, images, auth and manager."""

from __future__ import annotations

from .auth import Auth, SyncAuth
from .events import Events, SessionEventStream, SyncEvents
from .execution import Execution, ExecutionStream
from .images import Images, SyncImages
from .manager import Manager, SyncManager
from .sessions import Sessions, SyncSessions
from .vfolders import SyncVFolders, VFolders

__all__ = [
    "Auth",
    "Events",
    "Execution",
    "ExecutionStream",
    "Images",
    "Manager",
    "SessionEventStream",
    "Sessions",
    "SyncAuth",
    "SyncEvents",
    "SyncImages",
    "SyncManager",
    "SyncSessions",
    "SyncVFolders",
    "VFolders",
]
