"""``python -m backendai_jupyter.local``: prints the endpoint and exports, stops with no orphan kernels."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import aiohttp
from manager_helpers import Api, pid_alive


async def kernel_pid_of_new_session(url: str, access_key: str, secret_key: str) -> int:
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60)) as http:
        api = Api(url, access_key, secret_key, http)
        await api.create("main-sess")
        result = (await api.run_to_end("main-sess", "import os; print(os.getpid())"))[-1]
        return int(result["console"][0][1])


def test_serve_print_and_stop_on_sigterm(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BACKEND_", "SORNA_"))}
    proc = subprocess.Popen(
        [sys.executable, "-m", "backendai_jupyter.local", "--port", "0", "--data-dir", str(tmp_path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        match = re.match(r"backendai-jupyter local endpoint: (http://127\.0\.0\.1:\d+)$", first.strip())
        assert match, first
        exports: dict[str, str] = {}
        while len(exports) < 4:
            line = proc.stdout.readline()
            assert line, "output ended early"
            if m := re.match(r"\s*export (BACKEND_\w+)=(\S+)", line):
                exports[m.group(1)] = m.group(2)
        assert exports["BACKEND_ENDPOINT"] == match.group(1)
        assert exports["BACKEND_ENDPOINT_TYPE"] == "api"
        creds = tmp_path / "credentials.json"
        assert stat.S_IMODE(creds.stat().st_mode) == 0o600
        kernel_pid = asyncio.run(
            kernel_pid_of_new_session(
                match.group(1), exports["BACKEND_ACCESS_KEY"], exports["BACKEND_SECRET_KEY"]
            )
        )
        assert pid_alive(kernel_pid)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(30) == 0
        deadline = time.monotonic() + 10
        while pid_alive(kernel_pid):
            assert time.monotonic() < deadline, "kernel survived the server"
            time.sleep(0.05)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
        if proc.stdout is not None:
            proc.stdout.close()


def test_bad_arguments_exit_2(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "backendai_jupyter.local", "--data-dir", str(tmp_path), "--access-key", "AK"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "both access_key and secret_key" in done.stderr
