"""The local endpoint as a real server process, for tests (imported by name: conftest modules clash)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from backendai_jupyter.local.process import EndpointProcess, start_endpoint_process, stop_process

if TYPE_CHECKING:
    import subprocess

    from backendai_jupyter.sdk import APIConfig

__all__ = ["RunningEndpoint", "start_local_endpoint", "stop_process"]


@dataclass(frozen=True)
class RunningEndpoint(EndpointProcess):
    """A local endpoint process started by the tests; also gives an SDK configuration for it."""

    def config(self) -> APIConfig:
        """An SDK configuration for this endpoint."""
        from backendai_jupyter.sdk import APIConfig

        return APIConfig(
            endpoint=self.url, endpoint_type="api", access_key=self.access_key, secret_key=self.secret_key
        )


def start_local_endpoint(data_dir: Path, *extra_args: str) -> tuple[subprocess.Popen[str], RunningEndpoint]:
    """Start ``python -m backendai_jupyter.local`` on a free loopback port and wait until it serves."""
    proc, endpoint = start_endpoint_process(data_dir, *extra_args)
    return proc, RunningEndpoint(**vars(endpoint))
