"""Run every benchmark in sequence (``--quick``: tiny sizes) and print all their tables, then a summary."""

from __future__ import annotations

import argparse
import re
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

if __package__ in (None, ""):  # run as ``python bench/run_all.py``
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._support import ROOT

__all__ = ["BENCHMARKS", "main"]

#: Every benchmark, in the order they run.
BENCHMARKS = ("sdk_roundtrip", "first_output", "print_throughput", "transfer", "startup", "sweep")
#: Seconds each benchmark may take (full mode; quick mode allows a tenth, at least 60 s).
TIME_LIMITS = {
    "sdk_roundtrip": 600,
    "first_output": 600,
    "print_throughput": 900,
    "transfer": 1800,
    "startup": 600,
    "sweep": 900,
}


def _run_one(name: str, *, quick: bool) -> tuple[int, float, str]:
    """Run ``python -m bench.NAME`` as a child; returns (exit code, seconds, its output)."""
    limit = TIME_LIMITS[name] / 10 if quick else TIME_LIMITS[name]
    limit = max(limit, 60.0)
    argv = [
        sys.executable,
        "-m",
        f"bench.{name}",
        "--time-limit",
        str(limit),
        *(["--quick"] if quick else []),
    ]
    started = time.perf_counter()
    proc = subprocess.Popen(argv, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        # the child stops itself at its time limit; this outer bound covers its clean-up too
        out, _ = proc.communicate(timeout=limit + 60)
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGTERM)
        try:
            out, _ = proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, _ = proc.communicate()
        return -1, time.perf_counter() - started, out
    return proc.returncode, time.perf_counter() - started, out


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmarks; exit 1 if any of them failed to run (a MISS is a result, not a failure)."""
    parser = argparse.ArgumentParser(prog="python -m bench.run_all", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="tiny sizes and few iterations")
    parser.add_argument("--only", action="append", choices=BENCHMARKS, help="run only these (repeatable)")
    args = parser.parse_args(argv)
    names = args.only or list(BENCHMARKS)
    summary: list[tuple[str, str, float]] = []
    for name in names:
        code, seconds, out = _run_one(name, quick=args.quick)
        print(out.rstrip("\n"), flush=True)
        m = re.search(rf"^-- {name}: (\d+) PASS, (\d+) MISS$", out, re.MULTILINE)
        if code == 0 and m:
            summary.append((name, f"{m.group(1)} PASS, {m.group(2)} MISS", seconds))
        else:
            summary.append((name, f"FAILED (exit {code})", seconds))
        print(flush=True)
    print("== run_all: summary ==")
    width = max(len(n) for n, _, _ in summary)
    for name, outcome, seconds in summary:
        print(f"{name.ljust(width)}  {outcome}  ({seconds:.1f} s)")
    failed = [n for n, outcome, _ in summary if outcome.startswith("FAILED")]
    print(f"-- run_all: {len(summary) - len(failed)} ran, {len(failed)} failed", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
