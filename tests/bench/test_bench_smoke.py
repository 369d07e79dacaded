"""bench.run_all in quick mode: every benchmark runs and prints its table (numbers are not checked here)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.integration, pytest.mark.timeout(240)]

ROOT = Path(__file__).resolve().parents[2]
#: The benchmarks the design asks for (docs/design.md §5), one table each.
BENCHMARKS = ("sdk_roundtrip", "first_output", "print_throughput", "transfer", "startup", "sweep")
ROW = re.compile(r"^\S.*\s(PASS|MISS|info)$")


def _table(output: str, name: str) -> list[str]:
    """The lines of NAME's table, from its ``== NAME`` title to its ``-- NAME`` summary line."""
    start = re.search(rf"^== {name}: .+ ==$", output, re.MULTILINE)
    end = re.search(rf"^-- {name}: \d+ PASS, \d+ MISS$", output, re.MULTILINE)
    assert start, f"no table title for {name}:\n{output[-3000:]}"
    assert end, f"no table summary line for {name}:\n{output[-3000:]}"
    assert start.end() < end.start()
    return output[start.end() : end.start()].strip("\n").splitlines()


def test_run_all_quick_runs_every_benchmark_and_prints_its_table(tmp_path: Path) -> None:
    # the benchmarks' temp dirs (data dirs, connection files) land in tmp_path, so that leftovers can be seen
    env = {**os.environ, "TMPDIR": str(tmp_path)}
    proc = subprocess.run(
        [sys.executable, "-m", "bench.run_all", "--quick"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=220,
    )
    output = proc.stdout
    assert proc.returncode == 0, output[-4000:] + proc.stderr[-2000:]
    for name in BENCHMARKS:
        lines = _table(output, name)
        assert lines[0].split() == ["metric", "ours", "peer", "ratio", "target", "result"], lines
        rows = [line for line in lines[1:] if ROW.match(line)]
        assert rows, f"{name} printed a table without result rows:\n" + "\n".join(lines)
        assert any(line.endswith(("PASS", "MISS")) for line in rows), f"{name} measured no target"
    assert f"-- run_all: {len(BENCHMARKS)} ran, 0 failed" in output
    # every benchmark cleaned up: no temp dir left, and no process still running from one
    assert not list(tmp_path.glob("bench-*")), list(tmp_path.iterdir())
    leftovers = subprocess.run(["pgrep", "-f", str(tmp_path)], capture_output=True, text=True)
    assert leftovers.stdout.strip() == "", f"benchmark processes left running: {leftovers.stdout}"
