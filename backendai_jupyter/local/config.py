"""Settings of one local endpoint: where it keeps state, where it listens, which images it runs."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

__all__ = ["DEFAULT_IMAGES", "LocalConfig", "default_data_dir"]

#: Image name patterns (``fnmatch`` style, matched against the whole reference) -> python executable.
#: The first matching pattern wins. Every Python image runs on the interpreter serving the endpoint.
DEFAULT_IMAGES: Mapping[str, str] = MappingProxyType(
    {
        "python": sys.executable,
        "python:*": sys.executable,
        "*/python": sys.executable,
        "*/python:*": sys.executable,
    }
)


def default_data_dir() -> Path:
    """``$BACKENDAI_JUPYTER_DATA_DIR``, else the per-user data folder (``~/.local/share/...`` on Linux)."""
    explicit = os.environ.get("BACKENDAI_JUPYTER_DATA_DIR")
    if explicit:
        return Path(explicit).expanduser()
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "backendai-jupyter" / "local"


@dataclass(frozen=True)
class LocalConfig:
    """Everything a :class:`~backendai_jupyter.local.server.LocalEndpoint` needs to know at start."""

    data_dir: Path
    host: str = "127.0.0.1"
    port: int = 0
    storage_port: int = 0
    images: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_IMAGES))
    #: sessions beyond this many stay PENDING until one ends (no error, as on a real manager)
    max_concurrent_sessions: int = 8
    #: seconds without execution before a session is terminated with reason ``idle-timeout``; 0 = off
    idle_timeout: float = 0.0
    #: use this keypair instead of the data dir's generated one (both or neither)
    access_key: str | None = None
    secret_key: str | None = None
    #: requests per 15-minute window per access key (``X-RateLimit-Limit``)
    rate_limit: int = 30000
    #: seconds an execute call may wait for the kernel to start before giving up
    kernel_start_timeout: float = 60.0
    #: ``exec-timeout`` after this many seconds of one run; 0 = off
    exec_timeout: float = 0.0

    def __post_init__(self) -> None:
        if (self.access_key is None) != (self.secret_key is None):
            raise ValueError("LocalConfig: give both access_key and secret_key, or neither.")
        if self.max_concurrent_sessions < 1:
            raise ValueError(
                f"LocalConfig.max_concurrent_sessions={self.max_concurrent_sessions}: must be at least 1."
            )
        if self.idle_timeout < 0:
            raise ValueError(f"LocalConfig.idle_timeout={self.idle_timeout}: use 0 to turn it off.")

    def __repr__(self) -> str:
        # the secret key must never reach logs or tracebacks
        return (
            f"LocalConfig(data_dir={str(self.data_dir)!r}, host={self.host!r}, port={self.port}, "
            f"max_concurrent_sessions={self.max_concurrent_sessions}, idle_timeout={self.idle_timeout})"
        )
