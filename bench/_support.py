"""Shared pieces of the benchmarks: a run scope that stops what it started, endpoint, kernels, tables."""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import statistics
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from queue import Empty
from types import FrameType, TracebackType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from jupyter_client.blocking.client import BlockingKernelClient
    from jupyter_client.manager import KernelManager
    from typing_extensions import Self

    from backendai_jupyter.sdk import APIConfig

from backendai_jupyter.local.process import EndpointProcess, start_endpoint_process, stop_process

__all__ = [
    "OFFICIAL_VENV",
    "ROOT",
    "BenchTimeout",
    "CellResult",
    "Endpoint",
    "Finished",
    "RunScope",
    "StartedKernel",
    "Table",
    "fmt_bytes",
    "fmt_rate",
    "fmt_ratio",
    "fmt_seconds",
    "median",
    "official_env",
    "run_cell",
    "vm_hwm",
]

ROOT = Path(__file__).resolve().parent.parent
#: The official SDK/CLI 23.9.10 (the peer of SDK round trips and vfolder transfers).
OFFICIAL_VENV = Path(os.environ.get("BACKENDAI_OFFICIAL_CLI_VENV") or ROOT / ".venv-official-cli")
#: Seconds the local endpoint may take to print its address.
ENDPOINT_START_TIMEOUT = 60.0
#: Variables of the outer environment that must not leak into the processes we start.
_PRIVATE_PREFIXES = ("BACKEND_", "SORNA_", "BACKENDAI_JUPYTER_")


class BenchTimeout(Exception):
    """The benchmark ran past its time bound (raised in the main thread by SIGALRM)."""


# -- formatting -----------------------------------------------------------------------------------------


def fmt_seconds(seconds: float) -> str:
    """``0.9 ms``, ``15.2 ms``, ``1.23 s``."""
    if seconds < 1.0:
        return f"{seconds * 1000:.1f} ms"
    return f"{seconds:.2f} s"


def fmt_bytes(size: float) -> str:
    """``512 MiB``, ``20.0 MB`` style sizes in binary units."""
    for unit, scale in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if size >= scale:
            return f"{size / scale:.1f} {unit}"
    return f"{size:.0f} B"


def fmt_rate(bytes_per_second: float) -> str:
    """A transfer rate in MiB/s."""
    return f"{bytes_per_second / (1 << 20):.1f} MiB/s"


def fmt_ratio(ratio: float) -> str:
    """``0.57x``."""
    return f"{ratio:.2f}x"


def median(values: Sequence[float]) -> float:
    """The median of a non-empty sequence."""
    if not values:
        raise ValueError("no measurements to take the median of; run at least one iteration")
    return float(statistics.median(values))


@dataclass(frozen=True)
class Row:
    """One line of a result table; ``ok`` is None for informational rows."""

    metric: str
    ours: str
    peer: str
    compare: str
    target: str
    ok: bool | None


@dataclass
class Table:
    """The one table each benchmark prints: measured, peer, ratio, target and PASS/MISS."""

    name: str
    title: str
    rows: list[Row] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def add(
        self, metric: str, ours: str, peer: str, compare: str, target: str, ok: bool | None = None
    ) -> None:
        """Append a row (``ok=None``: no target applies, shown as ``info``)."""
        self.rows.append(Row(metric, ours, peer, compare, target, ok))

    def note(self, text: str) -> None:
        """Add a line printed under the table (how a value was measured, who the peer is)."""
        self.notes.append(text)

    def render(self) -> str:
        """The table as text; the first line starts with ``== NAME``, the last with ``-- NAME``."""
        header = ("metric", "ours", "peer", "ratio", "target", "result")
        cells = [
            (
                r.metric,
                r.ours,
                r.peer,
                r.compare,
                r.target,
                "info" if r.ok is None else "PASS" if r.ok else "MISS",
            )
            for r in self.rows
        ]
        widths = [max(len(str(line[i])) for line in [header, *cells]) for i in range(len(header))]
        lines = [f"== {self.name}: {self.title} =="]
        for line in [header, *cells]:
            lines.append("  ".join(str(v).ljust(w) for v, w in zip(line, widths, strict=True)).rstrip())
        lines.extend(f"   {n}" for n in self.notes)
        passed = sum(1 for r in self.rows if r.ok is True)
        missed = sum(1 for r in self.rows if r.ok is False)
        lines.append(f"-- {self.name}: {passed} PASS, {missed} MISS")
        return "\n".join(lines)

    def print(self) -> None:
        """Print the table (flushed, so that run_all sees it even if something fails later)."""
        print(self.render(), flush=True)


# -- the local endpoint -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Endpoint(EndpointProcess):
    """A local endpoint process started by a benchmark; also gives an SDK configuration for it."""

    def config(self) -> APIConfig:
        """An SDK configuration for this endpoint."""
        from backendai_jupyter.sdk import APIConfig

        return APIConfig(
            endpoint=self.url, endpoint_type="api", access_key=self.access_key, secret_key=self.secret_key
        )


def clean_environ() -> dict[str, str]:
    """The current environment without any Backend.AI or kernel settings of the user."""
    return {k: v for k, v in os.environ.items() if not k.startswith(_PRIVATE_PREFIXES)}


def official_env(endpoint: Endpoint, home: Path) -> dict[str, str]:
    """Environment of the official CLI/SDK: the endpoint's keys and a throwaway HOME, nothing else of ours."""
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "LANG", "LC_ALL", "TZ", "TMPDIR")}
    env.update(endpoint.env())
    home.mkdir(parents=True, exist_ok=True)
    env.update(
        {
            "HOME": str(home),
            "XDG_CONFIG_HOME": str(home / ".config"),
            "XDG_CACHE_HOME": str(home / ".cache"),
            "PYTHONWARNINGS": "ignore",
            "NO_COLOR": "1",
        }
    )
    return env


# -- kernels --------------------------------------------------------------------------------------------


@dataclass
class StartedKernel:
    """A kernel process started through jupyter_client, and its blocking client."""

    km: KernelManager
    kc: BlockingKernelClient


@dataclass
class CellResult:
    """What one execute request produced, timed from the request."""

    status: str
    seconds: float
    stdout_bytes: int = 0
    #: (seconds since the request, wall-clock time.time() at arrival, text) of each stream message
    streams: list[tuple[float, float, str]] = field(default_factory=list)


def run_cell(
    kc: BlockingKernelClient,
    code: str,
    *,
    timeout: float,
    keep_text: bool = False,
) -> CellResult:
    """Execute ``code`` and wait for its idle status and its reply; count (or keep) its stdout."""
    started = time.perf_counter()
    msg_id = kc.execute(code, store_history=True)
    deadline = started + timeout
    result = CellResult(status="", seconds=0.0)
    idle = False
    while not idle:
        remaining = deadline - time.perf_counter()
        if remaining <= 0:
            raise BenchTimeout(f"cell did not finish in {timeout:g} s: {code[:60]!r}")
        try:
            msg = kc.get_iopub_msg(timeout=min(remaining, 1.0))
        except Empty:
            continue
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        kind = msg["msg_type"]
        if kind == "status":
            idle = msg["content"]["execution_state"] == "idle"
        elif kind == "stream":
            text = msg["content"]["text"]
            if msg["content"]["name"] == "stdout":
                result.stdout_bytes += len(text.encode())
            if keep_text:
                result.streams.append((time.perf_counter() - started, time.time(), text))
    while True:  # the reply comes before idle as a rule; skip replies to earlier requests
        remaining = deadline - time.perf_counter()
        try:
            reply = kc.get_shell_msg(timeout=max(remaining, 0.01))
        except Empty:
            raise BenchTimeout(f"no execute_reply within {timeout:g} s: {code[:60]!r}") from None
        if reply["parent_header"].get("msg_id") == msg_id:
            break
    result.seconds = time.perf_counter() - started
    result.status = str(reply["content"]["status"])
    return result


@dataclass(frozen=True)
class Finished:
    """A command that ran to completion."""

    seconds: float
    stdout: str
    #: peak resident set size in bytes (ru_maxrss from wait4); on Linux it also counts what the forked
    #: parent had resident before exec, so it is an upper bound
    peak_rss: int
    #: peak resident set size of the program itself (VmHWM, sampled every 20 ms while it ran)
    hwm: int


# -- the run scope --------------------------------------------------------------------------------------


class RunScope:
    """One benchmark run: a temp dir, a time bound, and the processes it started (stopped by PID)."""

    def __init__(self, name: str, *, time_limit: float) -> None:
        self.name = name
        self.time_limit = time_limit
        self._tmp = tempfile.TemporaryDirectory(prefix=f"bench-{name}-")
        self.tmp = Path(self._tmp.name)
        self._procs: list[subprocess.Popen[str]] = []
        self._kernels: list[StartedKernel] = []
        self._cleanups: list[Callable[[], None]] = []
        self._old_alarm: Any = None
        self._old_term: Any = None

    def __enter__(self) -> Self:
        # kernels started here write their connection files (and our kernel its state files) in the tmp dir
        os.environ["JUPYTER_RUNTIME_DIR"] = str(self.tmp / "runtime")
        self._old_alarm = signal.signal(signal.SIGALRM, self._on_alarm)
        self._old_term = signal.signal(signal.SIGTERM, self._on_term)
        signal.setitimer(signal.ITIMER_REAL, self.time_limit)
        return self

    def _on_alarm(self, signum: int, frame: FrameType | None) -> None:
        raise BenchTimeout(f"bench.{self.name} ran past its time bound of {self.time_limit:g} s")

    def _on_term(self, signum: int, frame: FrameType | None) -> None:
        raise BenchTimeout(f"bench.{self.name} was asked to stop (SIGTERM)")

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, self._old_alarm)
        signal.signal(signal.SIGTERM, self._old_term)
        self.stop_all()
        self._tmp.cleanup()

    def on_exit(self, cleanup: Callable[[], None]) -> None:
        """Run ``cleanup`` when the scope ends (before processes are stopped), in reverse order."""
        self._cleanups.append(cleanup)

    def stop_all(self) -> None:
        """Run the cleanups, shut the kernels down, then SIGTERM (if need be SIGKILL) each process by PID."""
        for cleanup in reversed(self._cleanups):
            with contextlib.suppress(Exception):
                cleanup()
        self._cleanups.clear()
        for kernel in reversed(self._kernels):
            self.stop_kernel(kernel)
        for proc in reversed(self._procs):
            stop_process(proc)
        self._procs.clear()

    # -- processes --

    def start_endpoint(self, *extra_args: str) -> Endpoint:
        """Start ``python -m backendai_jupyter.local`` on a free loopback port with a fresh data dir."""
        data_dir = Path(tempfile.mkdtemp(prefix="endpoint-", dir=self.tmp))
        proc, endpoint = start_endpoint_process(
            data_dir, *extra_args, env=clean_environ(), timeout=ENDPOINT_START_TIMEOUT
        )
        self._procs.append(proc)
        return Endpoint(**vars(endpoint))

    def spawn(self, argv: Sequence[str], *, env: Mapping[str, str] | None = None) -> subprocess.Popen[str]:
        """Start a long-running helper with stdin/stdout pipes (stderr to a log); stopped with the scope."""
        log = (self.tmp / "logs").joinpath(f"{len(self._procs)}-{Path(argv[0]).name}.log")
        log.parent.mkdir(exist_ok=True)
        with log.open("w") as err:
            proc = subprocess.Popen(
                list(argv),
                env=dict(env) if env is not None else clean_environ(),
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=err,
                text=True,
            )
        self._procs.append(proc)
        return proc

    def run(
        self,
        argv: Sequence[str],
        *,
        timeout: float,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
        stdin_text: str | None = None,
    ) -> Finished:
        """Run a command to completion: wall seconds, stdout, peak RSS. Fails on a non-zero exit."""
        with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
            started = time.perf_counter()
            proc = subprocess.Popen(
                list(argv),
                env=dict(env) if env is not None else clean_environ(),
                cwd=cwd,
                stdin=subprocess.PIPE if stdin_text is not None else subprocess.DEVNULL,
                stdout=out,
                stderr=err,
                text=True,
            )
            self._procs.append(proc)
            if proc.stdin is not None:
                proc.stdin.write(stdin_text or "")
                proc.stdin.close()
            reaped: list[tuple[float, int, Any]] = []

            def reap() -> None:
                _, status, usage = os.wait4(proc.pid, 0)
                reaped.append((time.perf_counter(), status, usage))

            reaper = threading.Thread(target=reap, daemon=True)
            reaper.start()
            hwm = 0
            deadline = started + timeout
            while reaper.is_alive() and time.perf_counter() < deadline:
                hwm = max(hwm, vm_hwm(proc.pid))
                reaper.join(0.02)
            if not reaped:
                stop_process(proc)
                raise BenchTimeout(f"{Path(argv[0]).name} did not finish in {timeout:g} s")
            ended, status, usage = reaped[0]
            proc.returncode = os.waitstatus_to_exitcode(status)
            self._procs.remove(proc)
            out.seek(0)
            err.seek(0)
            stdout, stderr = out.read(), err.read()
        if proc.returncode != 0:
            raise RuntimeError(
                f"{Path(argv[0]).name} {' '.join(argv[1:3])} ... exited with {proc.returncode}:\n"
                f"{stdout[-1500:]}\n{stderr[-1500:]}"
            )
        return Finished(ended - started, stdout, int(usage.ru_maxrss) * 1024, hwm)

    def run_json(self, argv: Sequence[str], *, timeout: float, env: Mapping[str, str] | None = None) -> Any:
        """Run a helper that prints one JSON document as its last stdout line; returns it."""
        out = self.run(argv, timeout=timeout, env=env, cwd=ROOT).stdout
        last = [line for line in out.splitlines() if line.strip()][-1]
        return json.loads(last)

    # -- kernels --

    def start_kernel(
        self, *, native: bool = False, env: Mapping[str, str] | None = None, timeout: float = 60.0
    ) -> StartedKernel:
        """Start our kernel (``env`` = its BACKEND_*/BACKENDAI_JUPYTER_* settings) or a native ipykernel."""
        km = self.kernel_manager(native=native, env=env)
        log = self.tmp / "logs" / f"kernel-{len(self._kernels)}.log"
        log.parent.mkdir(exist_ok=True)
        with log.open("w") as err:  # the kernels' warnings would clutter the table
            km.start_kernel(env=clean_environ(), stderr=err)
        kc = km.client()
        kc.start_channels()
        kernel = StartedKernel(km, kc)
        self._kernels.append(kernel)
        kc.wait_for_ready(timeout=timeout)
        return kernel

    def kernel_manager(self, *, native: bool = False, env: Mapping[str, str] | None = None) -> KernelManager:
        """A kernel manager (not started) for our kernel or for the native ``python3`` ipykernel."""
        from jupyter_client.kernelspec import KernelSpecManager
        from jupyter_client.manager import KernelManager

        if native:
            return KernelManager(kernel_name="python3")
        from backendai_jupyter.kernel.kernelspec import kernel_json

        root = self.tmp / "kernels"
        name = f"backendai-bench-{len(list(root.glob('*'))) if root.exists() else 0}"
        spec = kernel_json(f"Backend.AI (bench {name})")
        spec["env"] = dict(env or {})
        (root / name).mkdir(parents=True)
        (root / name / "kernel.json").write_text(json.dumps(spec), encoding="utf-8")
        return KernelManager(kernel_name=name, kernel_spec_manager=KernelSpecManager(kernel_dirs=[str(root)]))

    def adopt_kernel(self, km: KernelManager, kc: BlockingKernelClient) -> StartedKernel:
        """Track a kernel started by the caller, so that the scope stops it."""
        kernel = StartedKernel(km, kc)
        self._kernels.append(kernel)
        return kernel

    def stop_kernel(self, kernel: StartedKernel) -> None:
        """Shut a kernel down gracefully (ours then lets go of its session), then make sure it is gone."""
        if kernel in self._kernels:
            self._kernels.remove(kernel)
        with contextlib.suppress(Exception):
            kernel.kc.stop_channels()
        with contextlib.suppress(Exception):
            if kernel.km.has_kernel:
                kernel.km.shutdown_kernel(now=False)


def vm_hwm(pid: int | str = "self") -> int:
    """Peak resident bytes of a process's own memory (``VmHWM`` in /proc; 0 when unreadable)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    match = re.search(r"^VmHWM:\s+(\d+) kB", status, re.MULTILINE)
    return int(match.group(1)) * 1024 if match else 0
