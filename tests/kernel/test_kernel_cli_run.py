"""``backendai-jupyter run``: the quickstart notebook end to end, the embedded endpoint, failing cells."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest
from kernel_harness import KERNEL, KernelSetup

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]

ROOT = Path(__file__).resolve().parents[2]
QUICKSTART = ROOT / "notebooks" / "quickstart.ipynb"


def clean_env(tmp_path: Path) -> dict[str, str]:
    """The environment of a fresh machine: no endpoint or keys anywhere, private data and runtime dirs."""
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("BACKEND_", "SORNA_", "BACKENDAI_JUPYTER_"))
    }
    env["BACKENDAI_JUPYTER_DATA_DIR"] = str(tmp_path / "data")
    env["JUPYTER_RUNTIME_DIR"] = str(tmp_path / "runtime")
    env.pop("JUPYTER_PATH", None)
    return env


def run_cli(*args: str, env: dict[str, str], timeout: float = 240) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "backendai_jupyter.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
    )


def output_types(nb: nbformat.NotebookNode) -> set[str]:
    types: set[str] = set()
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            types.add(output["output_type"])
            types.update(output.get("data", {}))
    return types


def test_quickstart_runs_on_the_embedded_endpoint(tmp_path: Path) -> None:
    out = tmp_path / "quickstart.out.ipynb"
    result = run_cli("run", str(QUICKSTART), "-o", str(out), env=clean_env(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    notes = [line for line in result.stderr.splitlines() if "embedded local endpoint" in line]
    assert len(notes) == 1, result.stderr
    nb = nbformat.read(out, as_version=4)
    types = output_types(nb)
    assert {"image/png", "image/svg+xml", "text/html", "error"} <= types
    stdout = "".join(
        o.get("text", "") for c in nb.cells for o in c.get("outputs", []) if o["output_type"] == "stream"
    )
    assert "Hello, world!" in stdout
    assert "step 4" in stdout
    drawing = [
        o
        for c in nb.cells
        if "Canvas" in c.source
        for o in c.outputs
        if "<Canvas" in o.get("data", {}).get("text/plain", "")
    ]
    assert drawing, "the turtle drawing is missing"
    assert "<svg" in drawing[-1]["data"]["image/svg+xml"]
    errors = [o for c in nb.cells for o in c.get("outputs", []) if o["output_type"] == "error"]
    assert [e["ename"] for e in errors] == ["ZeroDivisionError"]


def test_a_failing_cell_fails_the_run(kernel_specs: KernelSetup, tmp_path: Path) -> None:
    nb = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_code_cell("print('ok')"),
            nbformat.v4.new_code_cell("raise RuntimeError('bad cell')"),
            nbformat.v4.new_code_cell("print('never')"),
        ]
    )
    source = tmp_path / "failing.ipynb"
    nbformat.write(nb, source)
    # an endpoint is configured: it is used, with no embedded fallback
    env = {
        **clean_env(tmp_path),
        **kernel_specs.endpoint.env(),
        "JUPYTER_PATH": str(kernel_specs.jupyter_path),
    }
    result = run_cli("run", str(source), "--kernel", KERNEL, env=env)
    assert result.returncode == 1
    assert "embedded" not in result.stderr
    assert "cell 2 failed: RuntimeError: bad cell" in result.stderr
    executed = nbformat.read(tmp_path / "failing.out.ipynb", as_version=4)
    assert [o["text"] for o in executed.cells[0].outputs if o["output_type"] == "stream"] == ["ok\n"]
    assert executed.cells[2].outputs == []


def test_a_configured_but_unreachable_endpoint_never_falls_back(tmp_path: Path) -> None:
    env = {**clean_env(tmp_path), "BACKEND_ENDPOINT": "http://127.0.0.1:9", "BACKEND_ACCESS_KEY": "AKIAX"}
    env["BACKEND_SECRET_KEY"] = "y" * 40
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("print(1)")])
    source = tmp_path / "one.ipynb"
    nbformat.write(nb, source)
    result = run_cli("run", str(source), env=env)
    assert result.returncode == 1
    assert "embedded" not in result.stderr
    assert "BackendConnectionError" in result.stderr
    assert "y" * 40 not in result.stderr + result.stdout


@pytest.mark.timeout(60)
def test_local_serves_in_the_foreground(tmp_path: Path) -> None:
    import signal

    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "backendai_jupyter.cli",
            "local",
            "--port",
            "0",
            "--data-dir",
            str(tmp_path / "d"),
        ],
        env=clean_env(tmp_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        assert first.startswith("backendai-jupyter local endpoint: http://127.0.0.1:"), first
        lines = [first]
        while lines[-1] and not lines[-1].startswith("Stop with") and len(lines) < 30:
            lines.append(proc.stdout.readline())
        assert any("export BACKEND_SECRET_KEY=" in line for line in lines)
        # local/__main__ installs its SIGTERM handler just after printing; give it a moment (reported)
        time.sleep(0.5)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
        if proc.stdout is not None:
            proc.stdout.close()
    assert proc.returncode == 0
