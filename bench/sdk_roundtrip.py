"""Execute round trip of our SDK vs the official SDK on one session; the kernel's overhead over ours."""

from __future__ import annotations

import argparse
import asyncio
import http.client
import json
import sys
import time
from collections.abc import Callable, Sequence
from datetime import datetime, timezone
from pathlib import Path

from yarl import URL

if __package__ in (None, ""):  # run as ``python bench/sdk_roundtrip.py``
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from backendai_jupyter.sdk.types import ExecutionResult
from bench._support import (
    OFFICIAL_VENV,
    Endpoint,
    RunScope,
    StartedKernel,
    Table,
    fmt_ratio,
    fmt_seconds,
    median,
    official_env,
    run_cell,
)

__all__ = ["main", "measure"]

SESSION = "bench-roundtrip"
CODE = "print(1)"
#: Target: our SDK's round trip at most this fraction of the official SDK's.
SDK_TARGET = 0.7
#: Target: a trivial cell through the kernel costs at most this much more than the SDK's round trip.
KERNEL_TARGET = 0.002

# Runs in the official venv: answers each line "K" with K per-call seconds and the CPU seconds they took.
# One process per flavour: the official SDK keeps its current session in one ContextVar for both APIs.
_OFFICIAL_WORKER = """
import asyncio, json, sys, time
from ai.backend.client.session import AsyncSession, Session
flavour, name, code = sys.argv[1:4]
def check(r):
    if r["status"] != "finished":
        raise SystemExit(f"unexpected result {r!r}")
def serve_sync():
    with Session() as session:
        cs = session.ComputeSession(name)
        print("ready", flush=True)
        for line in sys.stdin:
            out = []
            cpu = time.process_time()
            for _ in range(int(line)):
                t = time.perf_counter()
                r = cs.execute(code=code)
                out.append(time.perf_counter() - t)
                check(r)
            print(json.dumps({"wall": out, "cpu": time.process_time() - cpu}), flush=True)
async def serve_async():
    async with AsyncSession() as session:
        cs = session.ComputeSession(name)
        print("ready", flush=True)
        while line := await asyncio.to_thread(sys.stdin.readline):
            out = []
            cpu = time.process_time()
            for _ in range(int(line)):
                t = time.perf_counter()
                r = await cs.execute(code=code)
                out.append(time.perf_counter() - t)
                check(r)
            print(json.dumps({"wall": out, "cpu": time.process_time() - cpu}), flush=True)
serve_sync() if flavour == "sync" else asyncio.run(serve_async())
"""


class _Official:
    """The official SDK (``Session`` or ``AsyncSession``) in its own venv, asked for K timed calls."""

    def __init__(self, scope: RunScope, endpoint: Endpoint, flavour: str) -> None:
        self._proc = scope.spawn(
            [str(OFFICIAL_VENV / "bin" / "python"), "-c", _OFFICIAL_WORKER, flavour, SESSION, CODE],
            env=official_env(endpoint, scope.tmp / "official-home"),
        )
        self._expect("ready")
        #: CPU seconds of the worker process spent in timed calls, and how many calls
        self.cpu = 0.0
        self.calls = 0

    def _expect(self, what: str) -> str:
        assert self._proc.stdout is not None  # started with pipes
        line = self._proc.stdout.readline()
        if not line:
            raise RuntimeError(
                f"the official SDK worker exited (code {self._proc.wait(5)}) while we expected {what}"
            )
        return line

    def times(self, n: int) -> list[float]:
        """K timed execute calls."""
        assert self._proc.stdin is not None  # started with pipes
        self._proc.stdin.write(f"{n}\n")
        self._proc.stdin.flush()
        reply = json.loads(self._expect(f"{n} timings"))
        self.cpu += float(reply["cpu"])
        self.calls += n
        return [float(t) for t in reply["wall"]]


class _Ours:
    """Our SDK: the sync facade and an AsyncClient on a loop of our own, kept for the whole run."""

    def __init__(self, endpoint: Endpoint) -> None:
        from backendai_jupyter.sdk import AsyncClient, Client

        self.sync = Client(endpoint.config())
        self._execute: Callable[..., ExecutionResult] = self.sync.sessions.execute
        self.loop = asyncio.new_event_loop()
        self.aclient = AsyncClient(endpoint.config())
        #: CPU seconds of this process spent in timed sync calls (the loop thread included), and how many
        self.sync_cpu = 0.0
        self.sync_calls = 0

    def close(self) -> None:
        """Close both clients and the loop."""
        self.sync.close()
        self.loop.run_until_complete(self.aclient.close())
        self.loop.close()

    def sync_times(self, n: int) -> list[float]:
        """K timed REST executes through the sync facade."""
        times = []
        cpu = time.process_time()
        for _ in range(n):
            started = time.perf_counter()
            result = self._execute(SESSION, mode="query", code=CODE)
            times.append(time.perf_counter() - started)
            _check(result.status)
        self.sync_cpu += time.process_time() - cpu
        self.sync_calls += n
        return times

    def async_times(self, n: int, *, stream: bool) -> list[float]:
        """K timed runs on the AsyncClient: REST execute, or one execute WebSocket each."""
        return self.loop.run_until_complete(self._async_times(n, stream=stream))

    async def _async_times(self, n: int, *, stream: bool) -> list[float]:
        sessions = self.aclient.sessions
        times = []
        for _ in range(n):
            started = time.perf_counter()
            if stream:
                async with sessions.stream(SESSION, CODE) as results:
                    statuses = [r.status async for r in results]
                status = statuses[-1] if statuses else "none"
            else:
                status = (await sessions.execute(SESSION, mode="query", code=CODE)).status
            times.append(time.perf_counter() - started)
            _check(status)
        return times


class _Floor:
    """The least any client can take: one keep-alive HTTP connection sending pre-signed bytes (stdlib)."""

    def __init__(self, endpoint: Endpoint, api_version: str) -> None:
        from backendai_jupyter.sdk.auth import format_date, sign_request

        url = URL(endpoint.url)
        self._conn = http.client.HTTPConnection(url.raw_host or "127.0.0.1", url.port, timeout=30)
        self._path = f"/session/{SESSION}"
        self._body = json.dumps({"mode": "query", "code": CODE, "runId": None}).encode()
        host = url.raw_authority
        date = format_date(datetime.now(timezone.utc))
        # the server accepts a signature for 15 minutes, so one signing serves every call of the run
        self._headers = {
            "Host": host,
            "Date": date,
            "Content-Type": "application/json",
            **sign_request(
                method="POST",
                path_with_query=self._path,
                date_header=date,
                host=host,
                content_type="application/json",
                api_version=api_version,
                access_key=endpoint.access_key,
                secret_key=endpoint.secret_key,
            ),
        }

    def times(self, n: int) -> list[float]:
        """K timed executes."""
        times = []
        for _ in range(n):
            started = time.perf_counter()
            self._conn.request("POST", self._path, body=self._body, headers=self._headers)
            resp = self._conn.getresponse()
            payload = json.loads(resp.read())
            times.append(time.perf_counter() - started)
            if resp.status != 200:
                raise RuntimeError(f"the pre-signed execute got HTTP {resp.status}: {payload!r}")
            _check(payload["result"]["status"])
        return times

    def close(self) -> None:
        """Close the connection."""
        self._conn.close()


def _check(status: str) -> None:
    if status != "finished":
        raise RuntimeError(f"{CODE} ended with status {status!r}, expected 'finished'")


def _cell_times(kernel: StartedKernel, n: int, *, expect_output: bool = True) -> list[float]:
    times = []
    for _ in range(n):
        cell = run_cell(kernel.kc, CODE, timeout=30)
        if cell.status != "ok" or (expect_output and cell.stdout_bytes != 2):
            raise RuntimeError(f"{CODE} through the kernel gave {cell!r}")
        times.append(cell.seconds)
    return times


def measure(scope: RunScope, *, iterations: int, warmup: int, rounds: int) -> Table:
    """Run every measurement against a fresh local endpoint and one session; returns the table.

    The measurements take turns in ``rounds`` rounds, so that a change in machine load hits them alike.
    """
    from backendai_jupyter.sdk import Client

    endpoint = scope.start_endpoint()
    with Client(endpoint.config()) as client:
        client.sessions.create("python", name=SESSION)
    scope.on_exit(lambda: _destroy(endpoint))
    ours = _Ours(endpoint)
    scope.on_exit(ours.close)
    floor = _Floor(endpoint, ours.sync.negotiate())
    scope.on_exit(floor.close)
    official_sync = _Official(scope, endpoint, "sync")
    official_async = _Official(scope, endpoint, "async")
    base = {**endpoint.env(), "BACKENDAI_JUPYTER_ATTACH": SESSION}
    k_rest = scope.start_kernel(env={**base, "BACKENDAI_JUPYTER_TRANSPORT": "rest"})
    k_ws = scope.start_kernel(env={**base, "BACKENDAI_JUPYTER_TRANSPORT": "websocket"})
    native = scope.start_kernel(native=True)

    measurers: dict[str, Callable[[int], list[float]]] = {
        "ours_sync": ours.sync_times,
        "official_sync": official_sync.times,
        "ours_async": lambda n: ours.async_times(n, stream=False),
        "official_async": official_async.times,
        "kernel_rest": lambda n: _cell_times(k_rest, n),
        "ours_ws": lambda n: ours.async_times(n, stream=True),
        "kernel_ws": lambda n: _cell_times(k_ws, n),
        "native": lambda n: _cell_times(native, n),
        "floor": floor.times,
    }
    times: dict[str, list[float]] = {key: [] for key in measurers}
    for measurer in measurers.values():
        measurer(warmup)
    per_round = max(1, iterations // rounds)
    for _ in range(rounds):
        for key, measurer in measurers.items():
            times[key].extend(measurer(per_round))
    m = {key: median(values) for key, values in times.items()}

    table = Table(
        "sdk_roundtrip",
        f"execute round trip of {CODE} on one session (median of {per_round * rounds}, {rounds} rounds)",
    )
    sdk_target = f"<= {SDK_TARGET}x"
    for label, mine, peer in (
        ("SDK execute, sync facade (REST)", m["ours_sync"], m["official_sync"]),
        ("SDK execute, async (REST)", m["ours_async"], m["official_async"]),
    ):
        table.add(
            label,
            fmt_seconds(mine),
            fmt_seconds(peer),
            fmt_ratio(mine / peer),
            sdk_target,
            mine / peer <= SDK_TARGET,
        )
    ours_extra, official_extra = m["ours_sync"] - m["floor"], m["official_sync"] - m["floor"]
    table.add(
        "  of which client (round trip - floor), sync",
        fmt_seconds(ours_extra),
        fmt_seconds(official_extra),
        fmt_ratio(ours_extra / official_extra) if official_extra > 0 else "-",
        "-",
    )
    table.add(
        "  client CPU per call, sync",
        fmt_seconds(ours.sync_cpu / ours.sync_calls),
        fmt_seconds(official_sync.cpu / official_sync.calls),
        fmt_ratio((ours.sync_cpu / ours.sync_calls) / (official_sync.cpu / official_sync.calls)),
        "-",
    )
    table.add("server floor: pre-signed keep-alive HTTP (stdlib)", fmt_seconds(m["floor"]), "-", "-", "-")
    kernel_target = f"<= +{KERNEL_TARGET * 1000:g} ms"
    for label, cell, sdk in (
        ("REST", m["kernel_rest"], m["ours_async"]),
        ("WebSocket", m["kernel_ws"], m["ours_ws"]),
    ):
        extra = cell - sdk
        table.add(
            f"kernel cell over ZeroMQ ({label}) vs our SDK",
            fmt_seconds(cell),
            fmt_seconds(sdk),
            f"{extra * 1000:+.1f} ms",
            kernel_target,
            extra <= KERNEL_TARGET,
        )
    table.add("native ipykernel cell over ZeroMQ (floor)", fmt_seconds(m["native"]), "-", "-", "-")
    table.note("SDK peers: the official SDK 23.9.10 (Session / AsyncSession) on the same session")
    table.note("floor: what the server itself takes (one keep-alive connection, pre-signed, no SDK at all)")
    table.note("kernel peers: our AsyncClient doing the same run (REST execute, or one execute WebSocket)")
    table.note("the kernels attach to the session; a cell is timed from execute_request to reply + idle")
    return table


def _destroy(endpoint: Endpoint) -> None:
    from backendai_jupyter.sdk import Client

    with Client(endpoint.config()) as client:
        client.sessions.destroy(SESSION)


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the options, measure, print the table."""
    parser = argparse.ArgumentParser(prog="python -m bench.sdk_roundtrip", description=__doc__)
    parser.add_argument(
        "--iterations", type=int, default=100, help="timed calls per measurement (default 100)"
    )
    parser.add_argument("--warmup", type=int, default=5, help="untimed calls first (default 5)")
    parser.add_argument("--rounds", type=int, default=5, help="turns the measurements take (default 5)")
    parser.add_argument("--quick", action="store_true", help="few iterations (a smoke run)")
    parser.add_argument("--time-limit", type=float, default=600, help="give up after this many seconds")
    args = parser.parse_args(argv)
    iterations, warmup = (5, 1) if args.quick else (args.iterations, args.warmup)
    if iterations < 1 or warmup < 0:
        parser.error(f"--iterations {iterations} must be 1 or more and --warmup {warmup} 0 or more")
    with RunScope("sdk_roundtrip", time_limit=args.time_limit) as scope:
        table = measure(scope, iterations=iterations, warmup=warmup, rounds=min(args.rounds, iterations))
    table.print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
