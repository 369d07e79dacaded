"""%backend run: code, files, batch commands, --rm, and parameter sweeps as concurrent sessions."""

from __future__ import annotations

import re
import secrets
import time
from pathlib import Path

import pytest
from IPython.core.error import UsageError
from magic_shell import Shell

pytestmark = pytest.mark.timeout(240)


def test_run_code_with_rm(shell: Shell) -> None:
    name = f"mgrun-{secrets.token_hex(3)}"
    out = shell.line(
        f"run --rm -t {name} -e WHO=world -c \"import os; print('hello', os.environ['WHO'])\" python"
    )
    assert "hello world" in out
    assert f"removed session {name}" in out
    assert name not in shell.active_sessions()


def test_run_files_and_exec_in_batch_mode(shell: Shell, tmp_path: Path) -> None:
    script = tmp_path / "main.py"
    script.write_text("import sys\nprint('from main', sys.argv[1:])\n")
    out = shell.line(f"run --rm --exec 'python main.py x y' python {script}")
    assert "from main ['x', 'y']" in out
    failing = tmp_path / "fail.py"
    failing.write_text("raise SystemExit(3)\n")
    with pytest.raises(UsageError, match="exit code 3"):
        shell.line(f"run --rm --exec 'python fail.py' python {failing}")


def test_batch_run_ending_in_a_traceback_shows_it_as_the_error(shell: Shell, tmp_path: Path) -> None:
    # the traceback is the last thing the program prints: it must not be held back as "maybe more follows"
    script = tmp_path / "boom.py"
    script.write_text("print('before the end')\nraise ValueError('boom at the end')\n")
    result, cap = shell.run_cell(f"%backend run --rm --exec 'python boom.py' python {script}")
    assert not result.success
    assert type(result.error_in_exec).__name__ == "ValueError"
    assert "boom at the end" in str(result.error_in_exec)
    assert "before the end" in cap.stdout


def test_run_remote_error_keeps_its_name(shell: Shell) -> None:
    result, cap = shell.run_cell("%backend run --rm -c \"int('x')\" python")
    assert not result.success
    assert type(result.error_in_exec).__name__ == "ValueError"
    assert "Traceback" not in cap.stdout.split("ValueError")[0] or "backendai_jupyter" not in cap.stdout


def test_run_usage_errors(shell: Shell, tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="needs -c CODE, FILES or --exec"):
        shell.line("run python")
    with pytest.raises(UsageError, match="not both"):
        shell.line(f"run -c 1 python {tmp_path}")
    with pytest.raises(UsageError, match="unknown kind 'steps'"):
        shell.line("run -c 1 --env-range X=steps:1,2 python")
    with pytest.raises(UsageError, match="needs --exec"):
        shell.line("run -c 1 --exec-range N=range:3 python")
    with pytest.raises(UsageError, match="between 1 and 64"):
        shell.line("run -c 1 --env-range X=case:a,b --max-parallel 0 python")


def test_sweep_of_eight_sessions(shell: Shell) -> None:
    base = f"mgsw-{secrets.token_hex(3)}"
    code = "import os; print('case', os.environ['X'], os.environ['MODE'])"
    started = time.monotonic()
    out = shell.line(
        f'run --rm -t {base} -c "{code}" --env-range X=range:1,5 --env-range MODE=case:fast,slow '
        "--max-parallel 4 python"
    )
    elapsed = time.monotonic() - started
    assert "running 8 combinations" in out
    assert "all 8 runs succeeded" in out
    for x in range(1, 5):
        for mode in ("fast", "slow"):
            assert f"case {x} {mode}" in out
    assert len(re.findall(rf"--- \[\d\] {base}-\d", out)) == 8
    assert not [n for n in shell.active_sessions() if n.startswith(base)]
    assert elapsed < 60
    # the live status table: one display, then updates in place with the same display id
    outputs = shell.last.outputs  # type: ignore[union-attr]
    ids = {o.transient["display_id"] for o in outputs if o.transient}
    assert len(ids) == 1
    assert len(outputs) > 2
    assert "done" in outputs[-1].data["text/plain"]


def test_sweep_with_exec_range_and_a_failure(shell: Shell, tmp_path: Path) -> None:
    script = tmp_path / "main.py"
    script.write_text("import sys\nn = int(sys.argv[1])\nprint('n', n)\nsys.exit(1 if n == 2 else 0)\n")
    with pytest.raises(UsageError, match=r"1 of 3 runs failed: #2"):
        shell.line(f"run --rm --exec 'python main.py $N' --exec-range N=range:1,4 -q python {script}")
    out = shell.last.stdout  # type: ignore[union-attr]
    assert "n 1" in out
    assert "n 3" in out
    assert not [n for n in shell.active_sessions() if n.startswith("sweep-")]
