"""Running code in one session: runs, their IDs and records, query and batch mode, FIFO one at a time.

This module knows a session only as a ``runtarget.RunTarget``; the routes that find the session and speak HTTP
are in ``execute_routes.py``.

Exit codes: in query mode a run finishes with ``exitCode`` 0 whatever the code did, exactly as the 23.09
runner reports it (exceptions and ``sys.exit(n)`` arrive only as stderr text); 130 when the kernel died under
the run. In batch mode each step reports its process's exit status, and ``exec`` is skipped with 127 after a
failed build or when ``*`` finds no ``main.py``. Responses are cut every ``wire.REST_FLUSH_SECONDS`` (REST,
``continued``) or ``wire.WS_FLUSH_SECONDS`` (WebSocket); neighbouring stdout (stderr) records are merged;
``options`` is null except on ``waiting-input``; ``files`` is always ``[]``.
"""

from __future__ import annotations

import asyncio
import codecs
import contextlib
import os
import secrets
import signal
import sys
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

from .problems import Problem
from .runtarget import RunTarget
from .runtime import KERNEL_LOST_EXIT_CODE, KernelRuntime, Record, RunSink

__all__ = ["Executor", "Run", "lost_run"]

#: records that end one response: the run's end, a batch step's end, or a question to the user
TERMINAL = frozenset({"finished", "clean-finished", "build-finished", "waiting-input", "exec-timeout"})
BATCH_INPUT_LIMIT = 1024
BUILD_SKIPPED = 'python-kernel: python-kernel: skipping the build phase due to missing "setup.py" file\n'
NO_MAIN = 'python-kernel: python-kernel: cannot find the main script ("main.py").\n'

# the batch-mode input() patch (docs/runner.md §1.6): prompt to stdout, the answer from the executor over
# loopback TCP
_SITECUSTOMIZE = """\
import builtins, os, socket, sys
if os.environ.get("_BACKEND_BATCH_MODE") == "1" and os.environ.get("BACKENDAI_BATCH_INPUT_PORT"):
    def _backend_input(prompt=""):
        if prompt:
            sys.stdout.write(str(prompt))
        sys.stdout.flush()
        port = int(os.environ["BACKENDAI_BATCH_INPUT_PORT"])
        with socket.create_connection(("127.0.0.1", port)) as conn:
            conn.sendall(os.environ.get("BACKENDAI_BATCH_INPUT_TOKEN", "").encode() + b"\\n")
            return conn.recv(1024).decode("utf-8", "replace")
    builtins.input = _backend_input
"""


class Run:
    """One execution (query or batch) with its queue of records and of user input."""

    def __init__(self, run_id: str) -> None:
        self.run_id = run_id
        self.records: asyncio.Queue[Record] = asyncio.Queue()
        self.inputs: asyncio.Queue[str] = asyncio.Queue()
        self.finished = False
        self.task: asyncio.Task[None] | None = None

    def push(self, record: Record) -> None:
        """Add one record (called by the kernel reader or the batch process readers)."""
        self.records.put_nowait(record)

    def ask_input(self) -> asyncio.Future[str]:
        """A future resolved with the next input line (buffered if it came early, as on the runner)."""
        return asyncio.ensure_future(self.inputs.get())

    async def next_result(self, flush: float) -> dict[str, Any]:
        """Records until a terminal one or ``flush`` seconds, as one result (``continued`` on timeout)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + flush
        console: list[list[Any]] = []
        result: dict[str, Any] = {"status": "continued", "exitCode": None, "options": None}
        while True:
            remaining = deadline - loop.time()
            if remaining <= 0:
                break
            try:
                kind, payload = await asyncio.wait_for(self.records.get(), remaining)
            except asyncio.TimeoutError:
                break
            if kind in TERMINAL:
                result["status"] = kind
                if kind == "waiting-input":
                    result["options"] = payload
                elif kind != "exec-timeout":
                    result["exitCode"] = payload.get("exitCode")
                if kind in ("finished", "exec-timeout"):
                    self.finished = True
                break
            if kind in ("stdout", "stderr") and console and console[-1][0] == kind:
                console[-1][1] += payload
            else:
                console.append([kind, payload])
        return {"runId": self.run_id, **result, "console": console, "files": []}


def lost_run(run_id: str) -> Run:
    """A run that already ended (or never existed): the manager's answer when the agent has nothing."""
    run = Run(run_id)
    run.push(("finished", {"exitCode": KERNEL_LOST_EXIT_CODE}))
    return run


class Executor:
    """The runs of one session: queued FIFO, one at a time, like the agent's code runner."""

    def __init__(self, session: RunTarget) -> None:
        self.session = session
        self.runs: dict[str, Run] = {}
        self._lock = asyncio.Lock()
        self._batch_proc: asyncio.subprocess.Process | None = None

    @property
    def busy(self) -> bool:
        """Whether any run is still going (the idle timer waits for it)."""
        return any(run.task is not None and not run.task.done() for run in self.runs.values())

    def _start(self, run_id: str | None, work: Callable[[Run], Coroutine[Any, Any, None]]) -> Run:
        run = Run(run_id or secrets.token_hex(16))
        self.runs[run.run_id] = run
        run.task = asyncio.get_running_loop().create_task(work(run))
        return run

    def start_query(self, run_id: str | None, code: str) -> Run:
        """Queue ``code`` for the kernel; returns its run."""

        async def work(run: Run) -> None:
            async with self._lock:
                runtime = await self._runtime(run)
                if runtime is None:
                    return
                self.session.count_query()
                self.session.touch()
                done = asyncio.Event()

                def sink(record: Record) -> None:
                    run.push(record)
                    if record[0] == "finished":
                        done.set()

                runtime.execute(code, sink, lambda _prompt, _password: run.ask_input())
                await self._wait_done(run, done)
                self.session.touch()

        return self._start(run_id, work)

    async def _runtime(self, run: Run) -> KernelRuntime | None:
        try:
            return await self.session.wait_running(self.session.config.kernel_start_timeout)
        except Problem as problem:
            run.push(("stderr", f"{problem.title} {problem.msg or ''}\n"))
            run.push(("finished", {"exitCode": KERNEL_LOST_EXIT_CODE}))
            return None

    async def _wait_done(self, run: Run, done: asyncio.Event) -> None:
        timeout = self.session.config.exec_timeout
        try:
            await asyncio.wait_for(done.wait(), timeout or None)
        except asyncio.TimeoutError:
            run.push(("exec-timeout", {}))
            await self.interrupt()

    def start_batch(self, run_id: str | None, options: dict[str, Any]) -> Run:
        """Queue clean, build and exec steps; ``*`` means the runner's defaults, ``""``/null skip a step."""

        async def work(run: Run) -> None:
            async with self._lock:
                runtime = await self._runtime(run)
                if runtime is None:
                    return
                self.session.touch()
                env = self._batch_env(runtime.kernel_env(), runtime.python)
                build_failed = False
                for step in ("clean", "build", "exec"):
                    command = options.get(step)
                    if step == "exec" and build_failed:
                        run.push(("finished", {"exitCode": 127}))
                        break
                    exit_code = await self._step(step, command, env, run, runtime.python)
                    build_failed = step == "build" and exit_code != 0
                    run.push(("finished" if step == "exec" else f"{step}-finished", {"exitCode": exit_code}))
                self.session.touch()

        return self._start(run_id, work)

    def _batch_env(self, env: dict[str, str], python: str) -> dict[str, str]:
        site = self.session.dir / "batch-site"
        site.mkdir(parents=True, exist_ok=True)
        (site / "sitecustomize.py").write_text(_SITECUSTOMIZE)
        env = dict(env)
        # `python`/`python3` in batch commands mean the session's interpreter, as in the image
        env["PATH"] = os.pathsep.join([str(Path(python).parent), env.get("PATH", os.defpath)])
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(site), env.get("PYTHONPATH", "")) if p)
        return env

    async def _step(self, step: str, command: str | None, env: dict[str, str], run: Run, python: str) -> int:
        workdir = self.session.workdir
        if not command:
            return 0
        if command == "*":
            if step == "clean":
                return 0
            if step == "build":
                if (workdir / "Makefile").exists():
                    command = "make"
                elif (workdir / "setup.py").exists():
                    command = f"{python} -m pip install --user -e ."
                else:
                    run.push(("stderr", BUILD_SKIPPED))
                    return 0
            elif (workdir / "main.py").exists():
                command = f"{python} main.py"
            else:
                run.push(("stderr", NO_MAIN))
                return 127
        if step != "exec":
            return await self._shell(command, env, run.push)
        token = secrets.token_hex(16)
        server = await asyncio.start_server(lambda r, w: self._serve_input(run, token, r, w), "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        env = {
            **env,
            "_BACKEND_BATCH_MODE": "1",
            "BACKENDAI_BATCH_INPUT_PORT": str(port),
            "BACKENDAI_BATCH_INPUT_TOKEN": token,
        }
        try:
            return await self._shell(command, env, run.push)
        finally:
            server.close()

    async def _serve_input(
        self, run: Run, token: str, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        try:
            line = await reader.readline()
            if line.strip().decode(errors="replace") != token:
                return
            await asyncio.sleep(0.05)  # let the pipe readers forward the prompt first
            run.push(("waiting-input", {}))  # batch mode sends an empty payload: options {}
            text = await run.inputs.get()
            writer.write(text.encode()[:BATCH_INPUT_LIMIT])
            await writer.drain()
        finally:
            writer.close()

    async def _shell(self, command: str, env: dict[str, str], emit: RunSink) -> int:
        proc = await asyncio.create_subprocess_shell(
            command,
            cwd=self.session.workdir,
            env=env,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            start_new_session=True,
        )
        self._batch_proc = proc

        async def pump(stream: asyncio.StreamReader | None, name: str) -> None:
            decoder = codecs.getincrementaldecoder("utf-8")("replace")
            while stream is not None:
                chunk = await stream.read(4096)
                text = decoder.decode(chunk, final=not chunk)
                if text:
                    emit((name, text))
                if not chunk:
                    return

        try:
            await asyncio.gather(pump(proc.stdout, "stdout"), pump(proc.stderr, "stderr"))
            return await proc.wait()
        except asyncio.CancelledError:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            await proc.wait()
            raise
        finally:
            self._batch_proc = None

    async def run_startup_command(self, command: str) -> int:
        """Run a batch session's ``startupCommand`` (output to the session log); returns its exit status."""
        runtime = self.session.runtime
        env = self._batch_env(runtime.kernel_env() if runtime else dict(os.environ), sys.executable)
        log_path = self.session.log_path

        def emit(record: Record) -> None:
            with open(log_path, "a", encoding="utf-8") as fp:
                fp.write(record[1])

        async with self._lock:
            return await self._shell(command, env, emit)

    async def interrupt(self) -> None:
        """SIGINT to the running batch process, else to the kernel (best effort)."""
        proc = self._batch_proc
        if proc is not None and proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGINT)
        elif self.session.runtime is not None:
            await self.session.runtime.interrupt()

    def forget(self, run: Run) -> None:
        """Drop a run whose final result was delivered."""
        if run.finished:
            self.runs.pop(run.run_id, None)

    async def close(self) -> None:
        """Abort every run (restart or termination); waiting callers get ``finished`` with 130."""
        for run in list(self.runs.values()):
            if run.task is not None and not run.task.done():
                run.task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await run.task
            if not run.finished:
                run.push(("finished", {"exitCode": KERNEL_LOST_EXIT_CODE}))
        self.runs.clear()
