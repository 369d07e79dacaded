"""A parameter sweep through ``%backend run --env-range`` (the magics' sweep machinery) vs the ideal time."""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as ``python bench/sweep.py``
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._support import Endpoint, RunScope, Table, fmt_ratio, fmt_seconds

__all__ = ["main", "measure"]

#: Target: the sweep takes at most this multiple of ceil(points / concurrency) * cell time.
TARGET = 1.3
_PRIVATE_PREFIXES = ("BACKEND_", "SORNA_", "BACKENDAI_JUPYTER_")


def _shell(endpoint: Endpoint) -> Any:
    """IPython's shell with %backend loaded, pointed at the endpoint through the environment."""
    for key in [k for k in os.environ if k.startswith(_PRIVATE_PREFIXES)]:
        del os.environ[key]
    os.environ.update(endpoint.env())
    os.environ["BACKENDAI_JUPYTER_PROGRESS"] = "text"
    from IPython.core.interactiveshell import InteractiveShell

    from backendai_jupyter.magics import load_ipython_extension

    shell = InteractiveShell.instance()
    return load_ipython_extension(shell)


def _sweep(magics: Any, *, base: str, points: int, concurrency: int, cell: float) -> float:
    """Run one sweep of ``points`` sessions; returns its wall seconds."""
    from IPython.utils.capture import capture_output

    line = (
        f'run --rm -q -t {base} -c "import time; time.sleep({cell})" '
        f"--env-range X=range:0,{points} --max-parallel {concurrency} python"
    )
    started = time.perf_counter()
    with capture_output() as captured:
        magics.backend(line)
    seconds = time.perf_counter() - started
    done = captured.stdout.count(": done")
    if done != points:
        raise RuntimeError(f"the sweep finished {done} of {points} runs:\n{captured.stdout[-2000:]}")
    return seconds


def measure(scope: RunScope, *, points: int, concurrency: int, cell: float) -> Table:
    """A one-point sweep (the real cost of one cell) and the full sweep; returns the table."""
    endpoint = scope.start_endpoint("--max-sessions", str(max(8, concurrency)))
    magics = _shell(endpoint)
    one = _sweep(magics, base="bench-one", points=1, concurrency=1, cell=cell)
    full = _sweep(magics, base="bench-sweep", points=points, concurrency=concurrency, cell=cell)
    waves = math.ceil(points / concurrency)
    ideal = waves * cell
    table = Table(
        "sweep", f"{points}-point sweep at concurrency {concurrency}, each cell sleeping {cell:g} s"
    )
    table.add(
        f"sweep vs ideal ({waves} x cell time)",
        fmt_seconds(full),
        fmt_seconds(ideal),
        fmt_ratio(full / ideal),
        f"<= {TARGET}x",
        full / ideal <= TARGET,
    )
    table.add(
        f"sweep vs {waves} x a one-point sweep",
        fmt_seconds(full),
        fmt_seconds(waves * one),
        fmt_ratio(full / (waves * one)),
        "-",
    )
    table.add("one-point sweep (start, run, remove a session)", fmt_seconds(one), fmt_seconds(cell), "-", "-")
    table.note(
        "each point is a new session (--rm): start, run the cell, remove; the ideal counts only the cell"
    )
    return table


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the options, measure, print the table."""
    parser = argparse.ArgumentParser(prog="python -m bench.sweep", description=__doc__)
    parser.add_argument("--points", type=int, default=32, help="sweep points (default 32)")
    parser.add_argument("--concurrency", type=int, default=8, help="sessions at once (default 8)")
    parser.add_argument("--cell", type=float, default=10.0, help="seconds each cell sleeps (default 10)")
    parser.add_argument("--quick", action="store_true", help="4 points, 2 at once, 0.3 s cells (a smoke run)")
    parser.add_argument("--time-limit", type=float, default=900, help="give up after this many seconds")
    args = parser.parse_args(argv)
    points, concurrency, cell = (4, 2, 0.3) if args.quick else (args.points, args.concurrency, args.cell)
    if points < 1 or not 1 <= concurrency <= 64 or cell <= 0:
        parser.error(
            f"--points {points} >= 1, --concurrency {concurrency} in 1..64 and --cell {cell} > 0 needed"
        )
    with RunScope("sweep", time_limit=args.time_limit) as scope:
        table = measure(scope, points=points, concurrency=concurrency, cell=cell)
    table.print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
