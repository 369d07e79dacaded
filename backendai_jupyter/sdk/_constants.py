"""Every default of the SDK core in one place."""

from __future__ import annotations

from typing import Final

from .. import wire
from .._version import __version__

__all__ = [
    "DEFAULT_API_VERSION",
    "DEFAULT_CONNECT_TIMEOUT",
    "DEFAULT_DOMAIN",
    "DEFAULT_ENDPOINT",
    "DEFAULT_ENDPOINT_TYPE",
    "DEFAULT_GROUP",
    "DEFAULT_HASH_TYPE",
    "DEFAULT_INITIAL_RETRY_DELAY",
    "DEFAULT_MAX_RETRIES",
    "DEFAULT_MAX_RETRY_DELAY",
    "DEFAULT_POOL_SIZE",
    "DEFAULT_READ_TIMEOUT",
    "DEFAULT_RETRY_JITTER",
    "DEFAULT_SSE_RETRY_MS",
    "DEFAULT_USER_AGENT",
    "DEFAULT_WS_HEARTBEAT",
    "ENDPOINT_TYPES",
    "ENV_PREFIXES",
    "IDEMPOTENT_METHODS",
    "MAX_RETRY_AFTER",
    "NEGOTIATE_READ_TIMEOUT",
    "OLDEST_WARN_VERSION",
    "POLL_FACTOR",
    "POLL_FIRST_DELAY",
    "POLL_MAX_DELAY",
    "RETRY_STATUSES",
    "TRANSFER_FIRST_BACKOFF",
    "TRANSFER_MAX_BACKOFF",
    "TRANSIENT_SERVER_STATUSES",
    "UPLOAD_FIRST_BACKOFF",
]

DEFAULT_ENDPOINT: Final = "https://api.cloud.backend.ai"
#: "api" signs every request with the keypair; "session" goes through a web server with a login cookie.
DEFAULT_ENDPOINT_TYPE: Final = "api"
ENDPOINT_TYPES: Final = frozenset({"api", "session"})
DEFAULT_API_VERSION: Final = wire.VERSION_24_03
DEFAULT_DOMAIN: Final = "default"
DEFAULT_GROUP: Final = "default"
DEFAULT_HASH_TYPE: Final = "sha256"
DEFAULT_USER_AGENT: Final = f"backendai-jupyter/{__version__}"

#: Environment variable prefixes, tried in this order (the official SDK's order).
ENV_PREFIXES: Final = ("BACKEND_", "SORNA_")

#: Seconds; 0 means no limit. The official SDK's defaults (docs/protocol.md §9).
DEFAULT_CONNECT_TIMEOUT: Final = 10.0
DEFAULT_READ_TIMEOUT: Final = 0.0
#: The version probe must not hang a notebook when the read timeout is unlimited.
NEGOTIATE_READ_TIMEOUT: Final = 10.0

DEFAULT_MAX_RETRIES: Final = 2
DEFAULT_INITIAL_RETRY_DELAY: Final = 0.5
DEFAULT_MAX_RETRY_DELAY: Final = 8.0
#: Fraction of the delay removed at random, so that many clients do not retry in lockstep.
DEFAULT_RETRY_JITTER: Final = 0.25
#: A Retry-After longer than this is not honoured (we fall back to our own backoff).
MAX_RETRY_AFTER: Final = 60.0
#: Replies of a gateway or an overloaded server: the same request may well succeed a moment later.
TRANSIENT_SERVER_STATUSES: Final = frozenset({502, 503, 504})
RETRY_STATUSES: Final = frozenset({429}) | TRANSIENT_SERVER_STATUSES
IDEMPOTENT_METHODS: Final = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})

DEFAULT_POOL_SIZE: Final = 100
DEFAULT_WS_HEARTBEAT: Final = 30.0
# The WebSocket message limit is a protocol fact: wire.MAX_WS_MESSAGE_SIZE (docs/protocol.md §5.2).

#: Seconds before the first resume of a download, doubling per further failure up to the maximum.
TRANSFER_FIRST_BACKOFF: Final = 0.02
#: Uploads pause longer first: the proxy must finish appending a broken PATCH before HEAD is stable.
UPLOAD_FIRST_BACKOFF: Final = 0.2
TRANSFER_MAX_BACKOFF: Final = 5.0

#: Status polling (``poll_delays``): first pause, growth per poll, longest pause, in seconds.
POLL_FIRST_DELAY: Final = 0.1
POLL_FACTOR: Final = 1.5
POLL_MAX_DELAY: Final = 1.0

#: SSE reconnection delay when the server sends none, in milliseconds (SSE spec units).
DEFAULT_SSE_RETRY_MS: Final = 5000

#: Servers older than this get a warning on negotiation (the official SDK warns too).
OLDEST_WARN_VERSION: Final = (5, "20191215")
