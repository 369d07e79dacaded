"""The local endpoint as a real server process, for tests (imported by name: conftest modules clash)."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from backendai_jupyter.sdk import APIConfig

START_TIMEOUT = 60.0


@dataclass(frozen=True)
class RunningEndpoint:
    """A local endpoint process started by the tests, and how to reach it."""

    url: str
    access_key: str
    secret_key: str = field(repr=False)
    data_dir: Path
    pid: int
    #: the session-mode login (``/server/login`` on the same URL) the endpoint printed
    email: str = ""
    password: str = field(default="", repr=False)

    def env(self) -> dict[str, str]:
        """``BACKEND_*`` variables that point a client at this endpoint."""
        return {
            "BACKEND_ENDPOINT": self.url,
            "BACKEND_ENDPOINT_TYPE": "api",
            "BACKEND_ACCESS_KEY": self.access_key,
            "BACKEND_SECRET_KEY": self.secret_key,
        }

    def config(self) -> APIConfig:
        """An SDK configuration for this endpoint."""
        from backendai_jupyter.sdk import APIConfig

        return APIConfig(
            endpoint=self.url, endpoint_type="api", access_key=self.access_key, secret_key=self.secret_key
        )


def start_local_endpoint(data_dir: Path, *extra_args: str) -> tuple[subprocess.Popen[str], RunningEndpoint]:
    """Start ``python -m backendai_jupyter.local`` on a free loopback port and wait until it serves."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BACKEND_", "SORNA_"))}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "backendai_jupyter.local",
            "--host",
            "127.0.0.1",
            "--port",
            "0",
            "--data-dir",
            str(data_dir),
            *extra_args,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    assert proc.stdout is not None
    found: dict[str, str] = {}
    deadline = time.monotonic() + START_TIMEOUT
    lines: list[str] = []
    while time.monotonic() < deadline and proc.poll() is None:
        line = proc.stdout.readline()
        if not line:
            continue
        lines.append(line)
        if m := re.match(r"backendai-jupyter local endpoint: (\S+)", line):
            found["url"] = m.group(1)
        if m := re.match(r"\s*session mode login: (\S+) / (\S+)", line):
            found["email"], found["password"] = m.group(1), m.group(2)
        if m := re.match(r"\s*export (BACKEND_ACCESS_KEY|BACKEND_SECRET_KEY)=(\S+)", line):
            found[m.group(1)] = m.group(2).strip("'\"")
        if {"url", "BACKEND_ACCESS_KEY", "BACKEND_SECRET_KEY"} <= found.keys():
            break
    else:
        stop_process(proc)
        raise RuntimeError("local endpoint did not start:\n" + "".join(lines))
    endpoint = RunningEndpoint(
        url=found["url"],
        access_key=found["BACKEND_ACCESS_KEY"],
        secret_key=found["BACKEND_SECRET_KEY"],
        data_dir=data_dir,
        pid=proc.pid,
        email=found.get("email", ""),
        password=found.get("password", ""),
    )
    return proc, endpoint


def stop_process(proc: subprocess.Popen[Any], timeout: float = 20.0) -> None:
    """SIGTERM the process we started, then SIGKILL it if it does not stop in time."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
    if proc.stdout is not None:
        proc.stdout.close()
