"""The bundled Backend.AI SDK core: ``AsyncClient``, its sync facade ``Client``, config and errors."""

from __future__ import annotations

from .client import UNSET, AsyncClient, RateLimit, Response
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
from .retry import RetryPolicy
from .sse import SSEEvent
from .sync import Client, LoopThread, SyncResource, loop_thread, sync_iter_method, sync_method

__all__ = [
    "DEFAULTS",
    "UNSET",
    "APIConfig",
    "AsyncClient",
    "AuthenticationError",
    "BackendAPIError",
    "BackendClientError",
    "BackendConnectionError",
    "BackendError",
    "BackendTimeoutError",
    "BadRequestError",
    "Client",
    "ConfigError",
    "ConflictError",
    "InvalidAuthParamsError",
    "InvalidParametersError",
    "LoopThread",
    "NotFoundError",
    "OTPRequiredError",
    "PermissionDeniedError",
    "QuotaExceededError",
    "RateLimit",
    "RateLimitError",
    "Response",
    "RetryPolicy",
    "SSEEvent",
    "ServerError",
    "SyncResource",
    "TooManySessionsMatchedError",
    "get_config",
    "get_env",
    "loop_thread",
    "set_config",
    "sync_iter_method",
    "sync_method",
]
