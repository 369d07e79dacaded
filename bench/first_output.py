"""Delay from the session printing to the notebook receiving the stream message (WebSocket path)."""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections.abc import Sequence
from pathlib import Path

if __package__ in (None, ""):  # run as ``python bench/first_output.py``
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._support import Endpoint, RunScope, StartedKernel, Table, fmt_ratio, fmt_seconds, median, run_cell

__all__ = ["main", "measure"]

SESSION = "bench-first-output"
#: Target: the first output reaches the notebook at most this long after the session printed it.
TARGET = 0.3
#: The cell prints the wall-clock time, then keeps running, so that its end does not flush the output.
CODE = "import time\nprint(repr(time.time()), flush=True)\ntime.sleep({hold})\n"


def _delay(printed_text: str, arrived: float) -> float:
    stamp = float(printed_text.split()[0])
    return arrived - stamp


def _kernel_delays(kernel: StartedKernel, n: int, hold: float) -> list[float]:
    delays = []
    for _ in range(n):
        cell = run_cell(kernel.kc, CODE.format(hold=hold), timeout=30 + hold, keep_text=True)
        if cell.status != "ok" or not cell.streams:
            raise RuntimeError(f"the timestamp cell gave no output through the kernel: {cell!r}")
        _, arrived, text = cell.streams[0]
        delays.append(_delay(text, arrived))
    return delays


async def _sdk_delays(endpoint: Endpoint, n: int, hold: float) -> list[float]:
    from backendai_jupyter.sdk import AsyncClient

    delays = []
    async with AsyncClient(endpoint.config()) as client:
        for _ in range(n):
            first: float | None = None
            async with client.sessions.stream(SESSION, CODE.format(hold=hold)) as results:
                async for result in results:
                    text = "".join(str(c.data) for c in result.console if c.kind == "stdout")
                    if first is None and text:
                        first = _delay(text, time.time())
            if first is None:
                raise RuntimeError("the timestamp cell gave no output on the execute WebSocket")
            delays.append(first)
    return delays


def measure(scope: RunScope, *, cells: int, hold: float) -> Table:
    """Time the first output of ``cells`` cells through the kernel (WebSocket, REST) and the SDK alone."""
    from backendai_jupyter.sdk import Client

    endpoint = scope.start_endpoint()
    with Client(endpoint.config()) as client:
        client.sessions.create("python", name=SESSION)
    scope.on_exit(lambda: _destroy(endpoint))
    base = {**endpoint.env(), "BACKENDAI_JUPYTER_ATTACH": SESSION}
    k_ws = scope.start_kernel(env={**base, "BACKENDAI_JUPYTER_TRANSPORT": "websocket"})
    k_rest = scope.start_kernel(env={**base, "BACKENDAI_JUPYTER_TRANSPORT": "rest"})
    run_cell(k_ws.kc, "1", timeout=30)  # warm up: the kernel's client negotiates on its first cell
    run_cell(k_rest.kc, "1", timeout=30)

    ws = _kernel_delays(k_ws, cells, hold)
    sdk = asyncio.run(_sdk_delays(endpoint, cells, hold))
    rest = _kernel_delays(k_rest, max(1, cells // 2), hold)

    table = Table("first_output", f"session print -> notebook stream message ({cells} cells)")
    table.add(
        "first output, kernel over WebSocket (median)",
        fmt_seconds(median(ws)),
        fmt_seconds(median(sdk)),
        fmt_ratio(median(ws) / median(sdk)),
        f"<= {TARGET} s",
        median(ws) <= TARGET,
    )
    table.add(
        "first output, kernel over WebSocket (max)",
        fmt_seconds(max(ws)),
        fmt_seconds(max(sdk)),
        fmt_ratio(max(ws) / max(sdk)),
        f"<= {TARGET} s",
        max(ws) <= TARGET,
    )
    table.add("first output, kernel over REST polling (median)", fmt_seconds(median(rest)), "-", "-", "-")
    table.note("peer: our AsyncClient reading the same execute WebSocket directly (no kernel, no ZeroMQ)")
    table.note("the server flushes the WebSocket every 0.2 s and REST every 2 s, as a real runner does")
    return table


def _destroy(endpoint: Endpoint) -> None:
    from backendai_jupyter.sdk import Client

    with Client(endpoint.config()) as client:
        client.sessions.destroy(SESSION)


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the options, measure, print the table."""
    parser = argparse.ArgumentParser(prog="python -m bench.first_output", description=__doc__)
    parser.add_argument("--cells", type=int, default=20, help="timed cells (default 20)")
    parser.add_argument("--hold", type=float, default=0.6, help="seconds each cell runs after printing")
    parser.add_argument("--quick", action="store_true", help="few cells (a smoke run)")
    parser.add_argument("--time-limit", type=float, default=600, help="give up after this many seconds")
    args = parser.parse_args(argv)
    cells, hold = (3, 0.4) if args.quick else (args.cells, args.hold)
    if cells < 1 or hold < 0:
        parser.error(f"--cells {cells} must be 1 or more and --hold {hold} 0 or more")
    with RunScope("first_output", time_limit=args.time_limit) as scope:
        table = measure(scope, cells=cells, hold=hold)
    table.print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
