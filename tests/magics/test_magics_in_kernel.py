"""%backend inside the "Backend.AI (remote)" kernel, over real ZeroMQ (the kernel tests' harness)."""

from __future__ import annotations

import json
import os
import secrets
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from jupyter_client.manager import start_new_kernel

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "kernel"))
from kernel_harness import Kernel, run_cell

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


@pytest.mark.xfail(
    reason="the kernel does not set the parent header of sys.stdout for its local shell (base Kernel has no "
    "shell.set_parent), so %backend output arrives unparented; the kernel needs "
    "sys.stdout.set_parent(parent)",
    strict=False,
)
def test_backend_ps_in_the_remote_kernel(kernel: Kernel, local_endpoint: Any) -> None:
    from backendai_jupyter.sdk import Client

    name = f"mgk-{secrets.token_hex(3)}"
    with Client(local_endpoint.config()) as client:
        client.sessions.create("python", name=name)
        try:
            cell = run_cell(kernel.kc, "%backend ps", timeout=60)
            assert cell.status == "ok", cell.outputs
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
