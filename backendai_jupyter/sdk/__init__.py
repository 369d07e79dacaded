"""The bundled Backend.AI SDK core: ``AsyncClient``, its sync facade ``Client``, config and errors.

Names load on first use (PEP 562), so that ``from backendai_jupyter.sdk import NotFoundError`` or the
config costs no aiohttp import: a notebook or CLI that only touches settings or errors starts fast.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .client import AsyncClient
    from .compat import AsyncSession, ComputeSession, Kernel, Request, Session, VFolder
    from .config import DEFAULTS, APIConfig, get_config, get_env, set_config
    from .errors import (
        AuthenticationError,
        BackendAPIError,
        BackendClientError,
        BackendConnectionError,
        BackendError,
        BackendTimeoutError,
        BadRequestError,
        ConfigError,
        ConflictError,
        InvalidAuthParamsError,
        InvalidParametersError,
        NotFoundError,
        OTPRequiredError,
        PermissionDeniedError,
        QuotaExceededError,
        RateLimitError,
        ServerError,
        TooManySessionsMatchedError,
    )
    from .resources import (
        Auth,
        Events,
        Execution,
        ExecutionStream,
        Images,
        Manager,
        SessionEventStream,
        Sessions,
        SyncAuth,
        SyncEvents,
        SyncImages,
        SyncManager,
        SyncSessions,
        SyncVFolders,
        VFolders,
    )
    from .response import UNSET, RateLimit, Response
    from .retry import RetryPolicy
    from .sse import SSEEvent
    from .sync import Client, LoopThread, SyncResource, loop_thread, sync_iter_method, sync_method
    from .types import (
        Announcement,
        ConsoleItem,
        CreatedSession,
        ExecutionResult,
        FileEntry,
        ImageInfo,
        KeypairInfo,
        Page,
        SessionEvent,
        SessionInfo,
        SessionListItem,
        TransferProgress,
        VFolderFile,
        VFolderHosts,
        VFolderInfo,
    )

__all__ = [
    "DEFAULTS",
    "UNSET",
    "APIConfig",
    "Announcement",
    "AsyncClient",
    "AsyncSession",
    "Auth",
    "AuthenticationError",
    "BackendAPIError",
    "BackendClientError",
    "BackendConnectionError",
    "BackendError",
    "BackendTimeoutError",
    "BadRequestError",
    "Client",
    "ComputeSession",
    "ConfigError",
    "ConflictError",
    "ConsoleItem",
    "CreatedSession",
    "Events",
    "Execution",
    "ExecutionResult",
    "ExecutionStream",
    "FileEntry",
    "ImageInfo",
    "Images",
    "InvalidAuthParamsError",
    "InvalidParametersError",
    "Kernel",
    "KeypairInfo",
    "LoopThread",
    "Manager",
    "NotFoundError",
    "OTPRequiredError",
    "Page",
    "PermissionDeniedError",
    "QuotaExceededError",
    "RateLimit",
    "RateLimitError",
    "Request",
    "Response",
    "RetryPolicy",
    "SSEEvent",
    "ServerError",
    "Session",
    "SessionEvent",
    "SessionEventStream",
    "SessionInfo",
    "SessionListItem",
    "Sessions",
    "SyncAuth",
    "SyncEvents",
    "SyncImages",
    "SyncManager",
    "SyncResource",
    "SyncSessions",
    "SyncVFolders",
    "TooManySessionsMatchedError",
    "TransferProgress",
    "VFolder",
    "VFolderFile",
    "VFolderHosts",
    "VFolderInfo",
    "VFolders",
    "get_config",
    "get_env",
    "loop_thread",
    "set_config",
    "sync_iter_method",
    "sync_method",
]

#: Submodule -> the public names it provides.
_SOURCES: dict[str, tuple[str, ...]] = {
    "client": ("AsyncClient",),
    "response": (
        "UNSET",
        "RateLimit",
        "Response",
    ),
    "compat": (
        "AsyncSession",
        "ComputeSession",
        "Kernel",
        "Request",
        "Session",
        "VFolder",
    ),
    "config": (
        "DEFAULTS",
        "APIConfig",
        "get_config",
        "get_env",
        "set_config",
    ),
    "errors": (
        "AuthenticationError",
        "BackendAPIError",
        "BackendClientError",
        "BackendConnectionError",
        "BackendError",
        "BackendTimeoutError",
        "BadRequestError",
        "ConfigError",
        "ConflictError",
        "InvalidAuthParamsError",
        "InvalidParametersError",
        "NotFoundError",
        "OTPRequiredError",
        "PermissionDeniedError",
        "QuotaExceededError",
        "RateLimitError",
        "ServerError",
        "TooManySessionsMatchedError",
    ),
    "resources": (
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
    ),
    "retry": ("RetryPolicy",),
    "sse": ("SSEEvent",),
    "sync": (
        "Client",
        "LoopThread",
        "SyncResource",
        "loop_thread",
        "sync_iter_method",
        "sync_method",
    ),
    "types": (
        "Announcement",
        "ConsoleItem",
        "CreatedSession",
        "ExecutionResult",
        "FileEntry",
        "ImageInfo",
        "KeypairInfo",
        "Page",
        "SessionEvent",
        "SessionInfo",
        "SessionListItem",
        "TransferProgress",
        "VFolderFile",
        "VFolderHosts",
        "VFolderInfo",
    ),
}
_WHERE = {name: module for module, names in _SOURCES.items() for name in names}


def __getattr__(name: str) -> Any:
    """Import a public name's submodule on first access (PEP 562)."""
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value  # later lookups skip __getattr__
    return value


def __dir__() -> list[str]:
    """The loaded names and every public one, so completion shows what ``__getattr__`` can load."""
    return sorted(set(globals()) | set(__all__))
