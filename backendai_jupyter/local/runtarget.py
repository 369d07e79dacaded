"""What a run needs from the session it runs in: the seam between the executor and the session registry."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from .config import LocalConfig
from .runtime import KernelRuntime

__all__ = ["RunTarget"]


class RunTarget(Protocol):
    """A session as the executor sees it (``registry.Session`` is one)."""

    @property
    def config(self) -> LocalConfig:
        """The endpoint settings: kernel start and execution timeouts."""
        ...

    @property
    def dir(self) -> Path:
        """The session's private folder (kernel log, batch helpers), outside the scratch folder."""
        ...

    @property
    def workdir(self) -> Path:
        """The scratch folder code runs in (``/home/work`` of the session)."""
        ...

    @property
    def log_path(self) -> Path:
        """The session log, where a batch session's startup command writes."""
        ...

    @property
    def runtime(self) -> KernelRuntime | None:
        """The kernel while one runs (None before it starts, after it ends)."""
        ...

    def touch(self) -> None:
        """Note activity: a run starts or ends (the idle timer counts from here)."""
        ...

    def count_query(self) -> None:
        """Count one query-mode run (``numQueriesExecuted``)."""
        ...

    async def wait_running(self, timeout: float) -> KernelRuntime:
        """The kernel once the session runs; raises ``Problem`` if it ends or does not start in time."""
        ...
