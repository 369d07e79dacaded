"""The local endpoint in a child process: start it, learn where it serves, stop it by PID."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["EndpointProcess", "start_endpoint_process", "stop_process"]

START_TIMEOUT = 60.0

_URL = re.compile(r"backendai-jupyter local endpoint: (\S+)")
_LOGIN = re.compile(r"\s*session mode login: (\S+) / (\S+)")
_KEY = re.compile(r"\s*export (BACKEND_ACCESS_KEY|BACKEND_SECRET_KEY)=(\S+)")


@dataclass(frozen=True)
class EndpointProcess:
    """A local endpoint serving from a child process, and how to reach it."""

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


def start_endpoint_process(
    data_dir: Path,
    *extra_args: str,
    env: Mapping[str, str] | None = None,
    timeout: float = START_TIMEOUT,
) -> tuple[subprocess.Popen[str], EndpointProcess]:
    """Start ``python -m backendai_jupyter.local`` on a free loopback port and wait until it serves.

    ``env`` defaults to this process's environment without ``BACKEND_*``/``SORNA_*`` settings. The
    child's output is drained on a daemon thread from then on, so a full pipe never blocks it.
    """
    if env is None:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("BACKEND_", "SORNA_"))}
    argv = [sys.executable, "-m", "backendai_jupyter.local", "--host", "127.0.0.1", "--port", "0"]
    proc = subprocess.Popen(
        [*argv, "--data-dir", str(data_dir), *extra_args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=dict(env),
    )
    stream = proc.stdout
    if stream is None:  # pragma: no cover - stdout=PIPE always gives a stream
        raise RuntimeError("no output pipe from the local endpoint process")
    found: dict[str, str] = {}
    lines: list[str] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        line = stream.readline()
        if not line:
            continue
        lines.append(line)
        if m := _URL.match(line):
            found["url"] = m.group(1)
        elif m := _LOGIN.match(line):
            found["email"], found["password"] = m.group(1), m.group(2)
        elif m := _KEY.match(line):
            found[m.group(1)] = m.group(2).strip("'\"")
        if {"url", "BACKEND_ACCESS_KEY", "BACKEND_SECRET_KEY"} <= found.keys():
            break
    else:
        status = proc.poll()
        stop_process(proc)
        shown = "".join(ln for ln in lines if "SECRET" not in ln and "login" not in ln)
        why = f"exited with status {status}" if status is not None else f"not ready within {timeout:g} s"
        raise RuntimeError(f"the local endpoint did not start ({why}):\n{shown}")
    threading.Thread(target=lambda: [None for _ in stream], daemon=True).start()
    endpoint = EndpointProcess(
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
    """SIGTERM a process we started, then SIGKILL it if it does not stop in time."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
    if proc.stdout is not None:
        proc.stdout.close()
