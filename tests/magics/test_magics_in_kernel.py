"""%backend inside the "Backend.AI (remote)" kernel, over real ZeroMQ (the kernel tests' harness)."""

from __future__ import annotations

import json
import os
import secrets
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from jupyter_client.manager import start_new_kernel

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "kernel"))
from kernel_harness import InterruptOnce, Kernel, run_cell

from backendai_jupyter.kernel.kernelspec import kernel_json

pytestmark = pytest.mark.timeout(180)
SPEC = "backendai-magics-test"


@pytest.fixture
def kernel(local_endpoint: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Kernel]:
    """A Backend.AI kernel on the local endpoint, from a kernelspec in a private JUPYTER_PATH."""
    spec = kernel_json("Backend.AI (magics test)")
    spec["env"] = {**local_endpoint.env(), "BACKENDAI_JUPYTER_PROGRESS": "text"}
    (tmp_path / "kernels" / SPEC).mkdir(parents=True)
    (tmp_path / "kernels" / SPEC / "kernel.json").write_text(json.dumps(spec), encoding="utf-8")
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path))
    monkeypatch.setenv("JUPYTER_RUNTIME_DIR", str(tmp_path / "runtime"))
    km, kc = start_new_kernel(kernel_name=SPEC, startup_timeout=60)
    started = Kernel(km, kc)
    try:
        yield started
    finally:
        started.stop()
    assert os.environ.get("JUPYTER_PATH") == str(tmp_path)


def test_backend_ps_in_the_remote_kernel(kernel: Kernel, local_endpoint: Any) -> None:
    from backendai_jupyter.sdk import Client

    name = f"mgk-{secrets.token_hex(3)}"
    with Client(local_endpoint.config()) as client:
        client.sessions.create("python", name=name)
        try:
            cell = run_cell(kernel.kc, "%backend ps", timeout=60)  # keeps only this request's outputs
            assert cell.status == "ok", cell.outputs
            assert cell.strays == []
            assert name in cell.stdout()
            assert "RUNNING" in cell.stdout()
        finally:
            client.sessions.destroy(name)


def test_usage_errors_in_the_remote_kernel(kernel: Kernel) -> None:
    cell = run_cell(kernel.kc, "%backend vfolder delete no-such-folder-here", timeout=60)
    assert cell.status == "error"
    assert cell.reply["ename"] == "UsageError"
    assert "no vfolder named 'no-such-folder-here'" in cell.reply["evalue"]
    assert not any("backendai_jupyter" in line for line in cell.reply["traceback"])
    cell = run_cell(kernel.kc, "%backend detach", timeout=60)
    assert cell.status == "error"
    assert "nothing is attached" in cell.reply["evalue"]


def test_usage_error_is_one_error_output(kernel: Kernel) -> None:
    cell = run_cell(kernel.kc, "%backend ps --no-such-option", timeout=60)
    assert cell.status == "error"
    errors = cell.of_type("error")
    assert len(errors) == 1
    assert errors[0]["ename"] == "UsageError"
    assert errors[0]["traceback"] == [f"UsageError: {errors[0]['evalue']}"]


def test_login_prompts_reach_the_front_end(kernel: Kernel, local_endpoint: Any) -> None:
    from backendai_jupyter.local.state import load_credentials

    creds = load_credentials(local_endpoint.data_dir)

    def answer(prompt: str, password: bool) -> str:
        return creds.password if password else creds.user.email

    cell = run_cell(kernel.kc, "%backend login", timeout=60, answer=answer)
    assert cell.status == "ok", cell.outputs
    assert [(r["prompt"], r["password"]) for r in cell.input_requests] == [
        ("User ID (email): ", False),
        ("Password: ", True),
    ]
    assert f"logged in as {creds.user.email}" in cell.stdout()
    assert creds.password not in json.dumps(cell.outputs)
    assert "logged out" in run_cell(kernel.kc, "%backend logout", timeout=60).stdout()


def test_interrupt_ends_backend_events(kernel: Kernel, local_endpoint: Any) -> None:
    from backendai_jupyter.sdk import Client

    name = f"mgk-{secrets.token_hex(3)}"
    interrupt_once = InterruptOnce(kernel, "showing its events")
    with Client(local_endpoint.config()) as client:
        client.sessions.create("python", name=name)
        try:
            started = time.monotonic()
            cell = run_cell(kernel.kc, f"%backend events {name}", timeout=60, on_output=interrupt_once)
        finally:
            client.sessions.destroy(name)
    assert interrupt_once.fired.is_set()
    assert time.monotonic() - started < 30
    assert cell.status == "error"
    assert cell.reply["ename"] == "KeyboardInterrupt"
    assert "stopped watching" in cell.stdout()
    errors = cell.of_type("error")
    assert len(errors) == 1
    assert errors[0]["traceback"] == [f"KeyboardInterrupt: %backend events {name} was interrupted"]
    assert kernel.km.is_alive()
    assert "BackendMagics settings" in run_cell(kernel.kc, "%backend config", timeout=60).stdout()
