"""The README's Python examples run as written against the local endpoint."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from endpoint_support import RunningEndpoint

README = Path(__file__).resolve().parent.parent / "README.md"
EXAMPLES = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.DOTALL)

pytestmark = pytest.mark.integration


def test_readme_has_examples() -> None:
    assert len(EXAMPLES) >= 2


@pytest.mark.parametrize("code", EXAMPLES, ids=[f"example-{i}" for i in range(len(EXAMPLES))])
def test_readme_example_runs(code: str, local_endpoint: RunningEndpoint, tmp_path: Path) -> None:
    (tmp_path / "train.csv").write_text("x,y\n1,2\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BACKEND_", "SORNA_"))}
    env.update(local_endpoint.env())
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert "hello" in result.stdout
    assert local_endpoint.secret_key not in result.stdout + result.stderr
