"""Every key under which the local endpoint's apps and requests keep shared objects, defined once.

Route modules read what they need through these keys; the objects themselves (registry, event bus, ...) know
nothing of aiohttp app state, so this module can name their types without an import cycle.
"""

from __future__ import annotations

import asyncio
import weakref

from aiohttp import web

from .config import LocalConfig
from .endpoint_state import LocalContext, User
from .eventbus import EventBus
from .registry import Registry
from .signing import Authenticator
from .websessions import WebSessions

__all__ = [
    "AUTHENTICATOR",
    "BUS",
    "CONFIG",
    "CONTEXT",
    "REGISTRY",
    "REQUEST_ACCESS_KEY",
    "REQUEST_RATE",
    "REQUEST_USER",
    "REQUEST_WEB_SESSION",
    "UPLOAD_LOCKS",
    "WEB_SESSIONS",
]

# ---- app keys ----------------------------------------------------------------------------------------------

#: the :class:`LocalContext` of the running endpoint (manager and storage-proxy apps)
CONTEXT = web.AppKey("backendai_local_context", LocalContext)
#: the endpoint's settings (manager app)
CONFIG = web.AppKey("backendai_local_config", LocalConfig)
#: every session of the endpoint (manager app)
REGISTRY = web.AppKey("backendai_registry", Registry)
#: the lifecycle event bus the registry publishes to and the SSE routes read (manager app)
BUS = web.AppKey("backendai_event_bus", EventBus)
#: signature checks and rate counting (manager app)
AUTHENTICATOR = web.AppKey("backendai_authenticator", Authenticator)
#: logged-in web-server sessions of ``/server/login`` (manager app)
WEB_SESSIONS = web.AppKey("backendai_web_sessions", WebSessions)
#: one lock per tus upload session, so that two PATCHes of one upload never interleave (storage-proxy app)
UPLOAD_LOCKS = web.AppKey("backendai_storage_upload_locks", weakref.WeakValueDictionary[str, asyncio.Lock])

# ---- request keys, set by the auth layer -------------------------------------------------------------------

#: the caller's access key on each authenticated request
REQUEST_ACCESS_KEY = web.RequestKey("backendai_access_key", str)
#: the caller's :class:`User` on each authenticated request
REQUEST_USER = web.RequestKey("backendai_user", User)
#: ``(limit, remaining)`` for the X-RateLimit-* headers
REQUEST_RATE = web.RequestKey("backendai_rate", tuple[int, int])
#: set when the caller was authenticated by a web-server session cookie instead of a signature
REQUEST_WEB_SESSION = web.RequestKey("backendai_web_session", bool)
