"""The example notebooks run end to end through `backendai-jupyter run` against the local endpoint."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from endpoint_support import RunningEndpoint

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"

pytestmark = pytest.mark.integration


def run_notebook(name: str, endpoint: RunningEndpoint, workdir: Path, *args: str) -> dict[str, Any]:
    shutil.copy(NOTEBOOKS / name, workdir / name)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BACKEND_", "SORNA_"))}
    env.update(endpoint.env())
    result = subprocess.run(
        [sys.executable, "-m", "backendai_jupyter.cli", "run", name, *args],
        cwd=workdir,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert endpoint.secret_key not in result.stdout + result.stderr
    executed: dict[str, Any] = json.loads((workdir / name.replace(".ipynb", ".out.ipynb")).read_text())
    return executed


def outputs_text(nb: dict[str, Any]) -> str:
    parts: list[str] = []
    for cell in nb["cells"]:
        for out in cell.get("outputs", []):
            assert out["output_type"] != "error", out
            text = out.get("text", "")
            parts.append("".join(text) if isinstance(text, list) else text)
            plain = out.get("data", {}).get("text/plain", "")
            parts.append("".join(plain) if isinstance(plain, list) else plain)
    return "\n".join(parts)


def test_magics_tour_in_an_ordinary_ipython_kernel(local_endpoint: RunningEndpoint, tmp_path: Path) -> None:
    nb = run_notebook("magics-tour.ipynb", local_endpoint, tmp_path, "--kernel", "python3")
    text = outputs_text(nb)
    assert "uploaded to vfolder" in text
    assert "sum = 55" in text  # the remote cell read the uploaded folder through the mount
    assert (tmp_path / "tour-output" / "total.txt").read_text() == "55"
    assert "all 4 runs succeeded" in text
    for combo in ("0.1 sgd", "0.1 adam", "0.01 sgd", "0.01 adam"):
        assert combo in text
    assert "removed session" in text
    assert "deleted vfolder" in text
