"""Printing many megabytes from one cell: our kernel (remote session) vs a native ipykernel."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

if __package__ in (None, ""):  # run as ``python bench/print_throughput.py``
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._support import (
    Endpoint,
    RunScope,
    StartedKernel,
    Table,
    fmt_bytes,
    fmt_rate,
    fmt_ratio,
    fmt_seconds,
    median,
    run_cell,
)

__all__ = ["main", "measure"]

SESSION = "bench-print"
#: Target: our kernel prints at least this fraction of a native ipykernel's rate.
TARGET = 0.5
LINE = 100  # bytes per printed line, newline included
CODE = "line = 'x' * {width}\nfor _ in range({lines}):\n    print(line)\n"


def _times(kernel: StartedKernel, size: int, repeat: int, timeout: float) -> list[float]:
    lines = size // LINE
    code = CODE.format(width=LINE - 1, lines=lines)
    times = []
    for _ in range(repeat):
        cell = run_cell(kernel.kc, code, timeout=timeout)
        if cell.status != "ok" or cell.stdout_bytes != lines * LINE:
            raise RuntimeError(
                f"the print cell gave status {cell.status!r} and {cell.stdout_bytes} bytes, "
                f"expected 'ok' and {lines * LINE}"
            )
        times.append(cell.seconds)
    return times


def measure(scope: RunScope, *, size: int, repeat: int) -> Table:
    """Print ``size`` bytes in 100-byte lines through each kernel ``repeat`` times; returns the table."""
    from backendai_jupyter.sdk import Client

    endpoint = scope.start_endpoint()
    with Client(endpoint.config()) as client:
        client.sessions.create("python", name=SESSION)
    scope.on_exit(lambda: _destroy(endpoint))
    base = {**endpoint.env(), "BACKENDAI_JUPYTER_ATTACH": SESSION}
    timeout = 60 + size / (256 * 1024)  # generous: 256 KiB/s at the very least
    table = Table("print_throughput", f"print {fmt_bytes(size)} in {LINE}-byte lines from one cell")
    native = scope.start_kernel(native=True)
    native_t = median(_times(native, size, repeat, timeout))
    scope.stop_kernel(native)
    for transport, target in (("websocket", True), ("rest", False)):
        kernel = scope.start_kernel(env={**base, "BACKENDAI_JUPYTER_TRANSPORT": transport})
        run_cell(kernel.kc, "1", timeout=30)  # warm up: the kernel's client negotiates on its first cell
        ours_t = median(_times(kernel, size, repeat, timeout))
        scope.stop_kernel(kernel)
        ratio = native_t / ours_t
        table.add(
            f"print rate, our kernel ({transport})",
            f"{fmt_rate(size / ours_t)} ({fmt_seconds(ours_t)})",
            f"{fmt_rate(size / native_t)} ({fmt_seconds(native_t)})",
            fmt_ratio(ratio),
            f">= {TARGET}x" if target else "-",
            ratio >= TARGET if target else None,
        )
    table.note(
        "peer: a native ipykernel (python3 kernelspec) running the same cell; median of "
        f"{repeat}; timed from execute_request to reply + idle, every byte counted on iopub"
    )
    return table


def _destroy(endpoint: Endpoint) -> None:
    from backendai_jupyter.sdk import Client

    with Client(endpoint.config()) as client:
        client.sessions.destroy(SESSION)


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the options, measure, print the table."""
    parser = argparse.ArgumentParser(prog="python -m bench.print_throughput", description=__doc__)
    parser.add_argument("--mb", type=float, default=20, help="megabytes to print (default 20)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per kernel, median taken (default 3)")
    parser.add_argument("--quick", action="store_true", help="1 MB once (a smoke run)")
    parser.add_argument("--time-limit", type=float, default=900, help="give up after this many seconds")
    args = parser.parse_args(argv)
    mb, repeat = (1.0, 1) if args.quick else (args.mb, args.repeat)
    if mb <= 0 or repeat < 1:
        parser.error(f"--mb {mb} must be positive and --repeat {repeat} 1 or more")
    with RunScope("print_throughput", time_limit=args.time_limit) as scope:
        table = measure(scope, size=int(mb * 1_000_000), repeat=repeat)
    table.print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
