"""The local endpoint as a child process: started, described, and stopped by PID."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from backendai_jupyter.local.process import start_endpoint_process, stop_process


def test_start_describe_and_stop(tmp_path: Path) -> None:
    proc, endpoint = start_endpoint_process(tmp_path / "data")
    try:
        assert endpoint.url.startswith("http://127.0.0.1:")
        assert endpoint.pid == proc.pid
        assert endpoint.env()["BACKEND_ENDPOINT"] == endpoint.url
        assert endpoint.email
        assert endpoint.password
        assert endpoint.secret_key not in repr(endpoint)
        assert endpoint.password not in repr(endpoint)
    finally:
        stop_process(proc)
    assert proc.returncode is not None
    with pytest.raises(ProcessLookupError):
        os.kill(proc.pid, 0)


def test_a_bad_option_is_reported_without_hanging(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match=r"did not start \(exited with status 2\)"):
        start_endpoint_process(tmp_path / "data", "--max-sessions", "many", timeout=30)
