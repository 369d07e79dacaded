"""Helpers of the kernel tests: kernelspec names, a started kernel, and a cell runner over real ZeroMQ."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from queue import Empty
from typing import Any

from jupyter_client.blocking.client import BlockingKernelClient
from jupyter_client.manager import KernelManager

#: kernelspec names written by ``kernel_specs``: the default (WebSocket preferred) and the REST-only one
KERNEL = "backendai-test"
KERNEL_REST = "backendai-test-rest"


@dataclass(frozen=True)
class KernelSetup:
    """Where the test kernelspecs live and what they point at."""

    jupyter_path: Path
    runtime_dir: Path
    endpoint: Any  # tests/conftest.py RunningEndpoint


@dataclass
class Kernel:
    """A started kernel and its client."""

    km: KernelManager
    kc: BlockingKernelClient

    def stop(self) -> None:
        """Graceful shutdown (the kernel destroys its owned session), then make sure the process is gone."""
        try:
            self.kc.stop_channels()
        finally:
            self.km.shutdown_kernel(now=False)


@dataclass
class Cell:
    """What one execute request produced."""

    reply: dict[str, Any]
    outputs: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    input_requests: list[dict[str, Any]] = field(default_factory=list)
    #: seconds from the request to each output
    times: list[float] = field(default_factory=list)
    #: outputs that arrived meanwhile under another parent (e.g. an empty one): front ends drop them
    strays: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    @property
    def status(self) -> str:
        return str(self.reply["status"])

    def stdout(self) -> str:
        return "".join(c["text"] for t, c in self.outputs if t == "stream" and c["name"] == "stdout")

    def of_type(self, msg_type: str) -> list[dict[str, Any]]:
        return [c for t, c in self.outputs if t == msg_type]


class InterruptOnce:
    """An ``on_output`` callback: interrupt ``kernel`` the first time a stream output contains ``marker``."""

    def __init__(self, kernel: Kernel, marker: str) -> None:
        self._kernel = kernel
        self._marker = marker
        #: set when the interrupt was sent
        self.fired = threading.Event()

    def __call__(self, msg_type: str, content: dict[str, Any]) -> None:
        text = content.get("text", "") if msg_type == "stream" else ""
        if self._marker in text and not self.fired.is_set():
            self.fired.set()
            self._kernel.km.interrupt_kernel()


def run_cell(
    kc: BlockingKernelClient,
    code: str,
    *,
    timeout: float = 60.0,
    answer: Callable[[str, bool], str] | None = None,
    silent: bool = False,
    store_history: bool = True,
    on_output: Callable[[str, dict[str, Any]], None] | None = None,
) -> Cell:
    """Execute ``code``, collect its iopub outputs until idle, answer input requests with ``answer``."""
    started = time.monotonic()
    msg_id = kc.execute(code, silent=silent, store_history=store_history, allow_stdin=answer is not None)
    cell = Cell(reply={})
    deadline = started + timeout
    idle = False
    while not idle:
        if time.monotonic() > deadline:
            raise TimeoutError(f"cell did not finish in {timeout} s: {code!r}; outputs: {cell.outputs}")
        if answer is not None and kc.stdin_channel.msg_ready():
            request = kc.get_stdin_msg(timeout=1)
            cell.input_requests.append(request["content"])
            kc.input(answer(request["content"]["prompt"], request["content"]["password"]))
        try:
            msg = kc.get_iopub_msg(timeout=0.05)
        except Empty:
            continue
        if msg["parent_header"].get("msg_id") != msg_id:
            if msg["msg_type"] not in ("status", "execute_input"):
                cell.strays.append((msg["msg_type"], msg["content"]))
            continue
        msg_type = msg["msg_type"]
        if msg_type == "status":
            idle = msg["content"]["execution_state"] == "idle"
        elif msg_type != "execute_input":
            cell.outputs.append((msg_type, msg["content"]))
            cell.times.append(time.monotonic() - started)
            if on_output is not None:
                on_output(msg_type, msg["content"])
    while True:  # skip replies to earlier requests (e.g. start_new_kernel's kernel_info)
        reply = kc.get_shell_msg(timeout=max(1.0, deadline - time.monotonic()))
        if reply["parent_header"].get("msg_id") == msg_id:
            break
        print("skipped shell message", reply["msg_type"], reply["content"])
    cell.reply = reply["content"]
    return cell
