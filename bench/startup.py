"""Kernel start to the first kernel_info reply, and the first cell on a new local session."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from queue import Empty
from typing import TYPE_CHECKING

if __package__ in (None, ""):  # run as ``python bench/startup.py``
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._support import (
    OFFICIAL_VENV,
    BenchTimeout,
    Endpoint,
    RunScope,
    StartedKernel,
    Table,
    clean_environ,
    fmt_ratio,
    fmt_seconds,
    median,
    official_env,
    run_cell,
)

if TYPE_CHECKING:
    from jupyter_client.blocking.client import BlockingKernelClient

__all__ = ["main", "measure"]

#: Targets: kernel_info within this long of the kernel's start; the first cell on a new session within this.
KERNEL_INFO_TARGET = 0.5
FIRST_CELL_TARGET = 3.0
CODE = "print(1)"

# Runs in the official venv: create a session, run one cell, print the seconds; then destroy it (untimed).
_OFFICIAL_FIRST_CELL = """
import sys, time
from ai.backend.client.session import Session
name, code = sys.argv[1], sys.argv[2]
with Session() as s:
    t = time.perf_counter()
    cs = s.ComputeSession.get_or_create("python", name=name)
    r = cs.execute(code=code)
    seconds = time.perf_counter() - t
    cs.destroy()
    if r["status"] != "finished":
        raise SystemExit(f"unexpected result {r!r}")
print(seconds)
"""


def _kernel_info_after_start(
    scope: RunScope, *, native: bool, env: dict[str, str]
) -> tuple[float, float, StartedKernel]:
    """Seconds from start_kernel() to the kernel_info reply, then one more kernel_info round trip."""
    km = scope.kernel_manager(native=native, env=env)
    log = scope.tmp / "logs" / f"startup-{time.monotonic_ns()}.log"
    log.parent.mkdir(exist_ok=True)
    started = time.perf_counter()
    with log.open("w") as err:
        km.start_kernel(env=clean_environ(), stderr=err)
    kc = km.client()
    kernel = scope.adopt_kernel(km, kc)
    kc.start_channels()
    first = _kernel_info(kc, started, timeout=60)
    again = _kernel_info(kc, time.perf_counter(), timeout=10)
    return first, again, kernel


def _kernel_info(kc: BlockingKernelClient, started: float, *, timeout: float) -> float:
    msg_id = kc.kernel_info()
    deadline = started + timeout
    while True:
        remaining = deadline - time.perf_counter()
        if remaining <= 0:
            raise BenchTimeout(f"no kernel_info reply within {timeout:g} s")
        try:
            reply = kc.get_shell_msg(timeout=remaining)
        except Empty:
            continue
        if reply["parent_header"].get("msg_id") == msg_id:
            return time.perf_counter() - started


def measure(scope: RunScope, *, trials: int) -> Table:
    """Start ``trials`` kernels of each kind and run a first cell on a new session in each of ours."""
    endpoint = scope.start_endpoint()
    ours_info: list[float] = []
    ours_again: list[float] = []
    native_info: list[float] = []
    first_cells: list[float] = []
    for _ in range(trials):
        first, again, native_kernel = _kernel_info_after_start(scope, native=True, env={})
        native_info.append(first)
        scope.stop_kernel(native_kernel)
        first, again, kernel = _kernel_info_after_start(scope, native=False, env=endpoint.env())
        ours_info.append(first)
        ours_again.append(again)
        cell = run_cell(kernel.kc, CODE, timeout=120)
        if cell.status != "ok" or cell.stdout_bytes != 2:
            raise RuntimeError(f"the first cell on a new session gave {cell!r}")
        first_cells.append(cell.seconds)
        scope.stop_kernel(kernel)  # its session is owned: destroyed on shutdown
    official_cells = [
        float(
            scope.run(
                [
                    str(OFFICIAL_VENV / "bin" / "python"),
                    "-c",
                    _OFFICIAL_FIRST_CELL,
                    f"bench-official-{i}",
                    CODE,
                ],
                env=official_env(endpoint, scope.tmp / "official-home"),
                timeout=120,
            ).stdout.split()[-1]
        )
        for i in range(trials)
    ]
    sdk_cells = [_sdk_first_cell(endpoint, f"bench-sdk-{i}") for i in range(trials)]

    table = Table("startup", f"kernel start and the first cell on a new local session (median of {trials})")
    info, native = median(ours_info), median(native_info)
    table.add(
        "kernel_info reply after kernel start",
        fmt_seconds(info),
        fmt_seconds(native),
        fmt_ratio(info / native),
        f"<= {KERNEL_INFO_TARGET} s",
        info <= KERNEL_INFO_TARGET,
    )
    table.add("kernel_info round trip once started", fmt_seconds(median(ours_again)), "-", "-", "-")
    first_cell, official = median(first_cells), median(official_cells)
    table.add(
        "first cell on a new session, through the kernel",
        fmt_seconds(first_cell),
        fmt_seconds(official),
        fmt_ratio(first_cell / official),
        f"<= {FIRST_CELL_TARGET} s",
        first_cell <= FIRST_CELL_TARGET,
    )
    table.add("first cell on a new session, our SDK alone", fmt_seconds(median(sdk_cells)), "-", "-", "-")
    table.note(
        "kernel_info peer: a native ipykernel (python3 kernelspec), timed the same way from start_kernel()"
    )
    table.note(
        "first-cell peer: the official SDK, ComputeSession.get_or_create + execute (process start excluded)"
    )
    return table


def _sdk_first_cell(endpoint: Endpoint, name: str) -> float:
    from backendai_jupyter.sdk import Client

    with Client(endpoint.config()) as client:
        started = time.perf_counter()
        client.sessions.create("python", name=name)
        result = client.sessions.execute(name, mode="query", code=CODE)
        seconds = time.perf_counter() - started
        client.sessions.destroy(name)
    if result.status != "finished":
        raise RuntimeError(f"{CODE} on a new session ended with {result.status!r}")
    return seconds


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the options, measure, print the table."""
    parser = argparse.ArgumentParser(prog="python -m bench.startup", description=__doc__)
    parser.add_argument("--trials", type=int, default=5, help="kernels started of each kind (default 5)")
    parser.add_argument("--quick", action="store_true", help="one trial (a smoke run)")
    parser.add_argument("--time-limit", type=float, default=600, help="give up after this many seconds")
    args = parser.parse_args(argv)
    trials = 1 if args.quick else args.trials
    if trials < 1:
        parser.error(f"--trials {trials} must be 1 or more")
    with RunScope("startup", time_limit=args.time_limit) as scope:
        table = measure(scope, trials=trials)
    table.print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
