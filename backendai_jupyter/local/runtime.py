"""One ipykernel process per session, driven through jupyter_client, and the iopub -> console record mapping.

Records are what the kernel runner sends the agent (docs/runner.md §1.4): ``("stdout", text)``, ``("stderr",
text)``, ``("media", [mime, data])``, ``("html", text)``, ``("waiting-input", {"is_password": bool})`` and
``("finished", {"exitCode": n})``. Deliberate differences from the 23.09 runner: ``text/html`` becomes an
``html`` record (the real runner's raw-HTML media record hangs the agent), and ``application/x-sorna-drawing``
is kept.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import os
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import AsyncKernelManager

__all__ = ["KernelRuntime", "Record", "RunSink", "records_from_iopub"]

log = logging.getLogger(__name__)

Record = tuple[str, Any]
#: how one run receives its records; the runtime calls it from its reader tasks
RunSink = Callable[[Record], None]
#: called on ``input_request``: (prompt, is_password) -> the text to send back
InputHandler = Callable[[str, bool], "asyncio.Future[str]"]

#: mimetypes a 23.09 runner forwards, by preference; everything else is dropped (docs/runner.md §1.4)
DATA_URI_TYPES = ("image/png", "image/jpeg", "image/gif")
KEPT_TYPES = ("text/plain", "text/html", "image/svg+xml", "application/x-sorna-drawing", *DATA_URI_TYPES)
#: exit code of a run whose kernel died under it (what the manager synthesizes when the agent has nothing)
KERNEL_LOST_EXIT_CODE = 130

_ENCRYPTION = "transport_encryption" in AsyncKernelManager.class_trait_names()


def records_from_display(data: Mapping[str, Any]) -> list[Record]:
    """The record of one ``display_data``/``execute_result`` (one mimetype; text/plain only if alone)."""
    mimes = [m for m in data if m != "text/plain"] if len(data) > 1 else list(data)
    mime = next((m for m in mimes if m in KEPT_TYPES), None)
    if mime is None:
        return []
    value = data[mime]
    if mime == "text/plain":
        return [("stdout", str(value))]
    if mime == "text/html":
        return [("html", str(value))]
    if mime in DATA_URI_TYPES:
        b64 = str(value).replace("\n", "")
        return [("media", [mime, f"data:{mime};base64,{b64}"])]
    if not isinstance(value, str):
        value = json.dumps(value)
    return [("media", [mime, value])]


def records_from_iopub(msg: Mapping[str, Any]) -> list[Record]:
    """Console records for one iopub message of a run (docs/runner.md §1.4); status messages give none."""
    kind = msg["msg_type"]
    content = msg["content"]
    if kind == "stream":
        return [(str(content["name"]), str(content["text"]))]
    if kind == "error":
        return [("stderr", "\n".join(content.get("traceback") or []))]
    if kind in ("execute_result", "display_data"):
        return records_from_display(content.get("data") or {})
    return []


def _ipykernel_supports_curve() -> bool:
    try:
        from ipykernel.kernelapp import IPKernelApp
    except ImportError:
        return False
    return "curve_secretkey" in IPKernelApp.class_trait_names()


def _kernel_dir(data_dir: Path, python: str) -> tuple[Path, str]:
    """A kernelspec folder for ``python`` under the data dir (written once): (kernels dir, kernel name)."""
    name = "bai-" + hashlib.sha256(python.encode()).hexdigest()[:12]
    spec_dir = data_dir / "kernels" / name
    spec: dict[str, Any] = {
        "argv": [python, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": f"Backend.AI local ({python})",
        "language": "python",
        "interrupt_mode": "signal",
    }
    if _ENCRYPTION and python == sys.executable and _ipykernel_supports_curve():
        # lets jupyter_client provision CurveZMQ keys: the kernel's sockets are not plain TCP then
        spec["metadata"] = {"supported_encryption": ["curve"]}
    text = json.dumps(spec, indent=1)
    target = spec_dir / "kernel.json"
    if not target.exists() or target.read_text() != text:
        spec_dir.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
    return spec_dir.parent, name


class KernelRuntime:
    """One ipykernel process with its client channels; routes iopub and stdin messages to the current runs."""

    def __init__(
        self,
        *,
        python: str,
        data_dir: Path,
        workdir: Path,
        environ: Mapping[str, str],
        log_path: Path,
        on_death: Callable[[], None] | None = None,
    ) -> None:
        self.python = python
        self.data_dir = data_dir
        self.workdir = workdir
        self.environ = dict(environ)
        self.log_path = log_path
        self.on_death = on_death
        self._km: AsyncKernelManager | None = None
        self._kc: Any = None
        self._tasks: list[asyncio.Task[None]] = []
        self._sinks: dict[str, RunSink] = {}
        self._inputs: dict[str, InputHandler] = {}
        self._replies: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self._log_file: Any = None

    # ---- lifecycle -----------------------------------------------------------------------------------------

    def kernel_env(self) -> dict[str, str]:
        """The kernel's environment: ours minus client credentials, plus the session's ``environ``."""
        env = {k: v for k, v in os.environ.items() if not k.startswith(("BACKEND_", "SORNA_"))}
        env.update(
            {
                # plt.show() and figures go through ipykernel's inline backend, like the runner's config
                "MPLBACKEND": "module://matplotlib_inline.backend_inline",
                "PYTHONUNBUFFERED": "1",
                "IPYTHONDIR": str(self.data_dir / "ipython"),
                "JPY_PARENT_PID": str(os.getpid()),
            }
        )
        env.update(self.environ)
        return env

    def _open_log(self) -> Any:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        return open(self.log_path, "ab")

    async def start(self) -> None:
        """Start the kernel and wait until it answers ``kernel_info``."""
        kernels_dir, name = _kernel_dir(self.data_dir, self.python)
        ksm = KernelSpecManager(kernel_dirs=[str(kernels_dir)])
        km = AsyncKernelManager(kernel_spec_manager=ksm, kernel_name=name)
        km.connection_file = str(self.log_path.parent / "connection.json")
        self._log_file = self._open_log()
        kwargs: dict[str, Any] = {"cwd": str(self.workdir), "env": self.kernel_env()}
        kwargs.update(stdout=self._log_file, stderr=self._log_file)
        if _ENCRYPTION:
            kwargs["transport_encryption"] = "auto"
        self._km = km
        await km.start_kernel(**kwargs)
        kc = km.client()
        kc.start_channels()
        self._kc = kc
        try:
            await kc.wait_for_ready(timeout=60)
        except RuntimeError:
            await self.stop()
            raise
        loop = asyncio.get_running_loop()
        self._tasks = [
            loop.create_task(self._pump_iopub()),
            loop.create_task(self._pump_stdin()),
            loop.create_task(self._pump_shell()),
            loop.create_task(self._watch()),
        ]

    async def stop(self) -> None:
        """End the kernel process (no orphans) and finish every run still attached."""
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks = []
        self._finish_all()
        if self._kc is not None:
            self._kc.stop_channels()
            self._kc = None
        if self._km is not None:
            km, self._km = self._km, None
            try:
                await km.shutdown_kernel(now=True)
            except Exception:
                log.exception("kernel shutdown failed; killing it")
                with contextlib.suppress(Exception):
                    await km._async_kill_kernel()  # jupyter_client has no public kill without cleanup
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None

    @property
    def pid(self) -> int | None:
        """The kernel's process id while it runs."""
        provisioner = getattr(self._km, "provisioner", None)
        pid = getattr(provisioner, "pid", None)
        return pid if isinstance(pid, int) else None

    async def is_alive(self) -> bool:
        """Whether the kernel process is still running."""
        return self._km is not None and bool(await self._km.is_alive())

    async def interrupt(self) -> None:
        """SIGINT to the kernel (best effort, like the agent)."""
        if self._km is not None:
            await self._km.interrupt_kernel()

    # ---- runs ---------------------------------------------------------------------------------------------

    def execute(self, code: str, sink: RunSink, on_input: InputHandler) -> str:
        """Send ``code``; records of the run go to ``sink``, ending with ``finished``; returns the msg_id."""
        if self._kc is None:
            raise RuntimeError("the kernel is not running")
        msg_id: str = self._kc.execute(code, allow_stdin=True, store_history=True)
        self._sinks[msg_id] = sink
        self._inputs[msg_id] = on_input
        return msg_id

    async def complete(self, code: str, cursor_pos: int, *, timeout: float = 10.0) -> list[str]:
        """Completion matches from the kernel for ``code`` at ``cursor_pos``."""
        if self._kc is None:
            raise RuntimeError("the kernel is not running")
        msg_id: str = self._kc.complete(code, cursor_pos)
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._replies[msg_id] = future
        try:
            reply = await asyncio.wait_for(future, timeout)
        finally:
            self._replies.pop(msg_id, None)
        return [str(m) for m in reply["content"].get("matches", [])]

    def _finish(self, msg_id: str, exit_code: int) -> None:
        sink = self._sinks.pop(msg_id, None)
        self._inputs.pop(msg_id, None)
        if sink is not None:
            sink(("finished", {"exitCode": exit_code}))

    def _finish_all(self) -> None:
        for msg_id in list(self._sinks):
            self._finish(msg_id, KERNEL_LOST_EXIT_CODE)

    async def _pump_iopub(self) -> None:
        while True:
            msg = await self._kc.get_iopub_msg()
            msg_id = msg.get("parent_header", {}).get("msg_id")
            sink = self._sinks.get(msg_id)
            if sink is None:
                continue
            if msg["msg_type"] == "status" and msg["content"].get("execution_state") == "idle":
                # 23.09 runners report 0 in query mode whatever happened (see execute.py)
                self._finish(msg_id, 0)
                continue
            for record in records_from_iopub(msg):
                sink(record)

    async def _pump_stdin(self) -> None:
        while True:
            msg = await self._kc.get_stdin_msg()
            if msg["msg_type"] != "input_request":
                continue
            msg_id = msg.get("parent_header", {}).get("msg_id")
            sink, on_input = self._sinks.get(msg_id), self._inputs.get(msg_id)
            if sink is None or on_input is None:
                continue
            await self._let_iopub_catch_up()
            prompt = str(msg["content"].get("prompt", ""))
            password = bool(msg["content"].get("password", False))
            if prompt:
                sink(("stdout", prompt))
            sink(("waiting-input", {"is_password": password}))
            answer = on_input(prompt, password)
            answer.add_done_callback(self._send_input)

    async def _let_iopub_catch_up(self) -> None:
        # ipykernel flushes stdout before input_request, but on another socket: let the iopub pump take what
        # is already there, so output before the prompt lands in the waiting-input response as on the agent
        for _ in range(50):
            await asyncio.sleep(0.01)
            if not await self._kc.iopub_channel.msg_ready():
                return

    def _send_input(self, answer: asyncio.Future[str]) -> None:
        if self._kc is not None and not answer.cancelled() and answer.exception() is None:
            self._kc.input(answer.result())

    async def _pump_shell(self) -> None:
        while True:
            msg = await self._kc.get_shell_msg()
            future = self._replies.get(msg.get("parent_header", {}).get("msg_id"))
            if future is not None and not future.done():
                future.set_result(msg)

    async def _watch(self) -> None:
        # a kernel that dies (os._exit, segfault, OOM) never goes idle: finish its runs, do not hang them
        while True:
            await asyncio.sleep(1.0)
            if self._km is not None and not await self._km.is_alive():
                log.warning("kernel of %s died", self.workdir)
                self._finish_all()
                if self.on_death is not None:
                    self.on_death()
                return
