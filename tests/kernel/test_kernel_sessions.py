"""The kernel over real ZeroMQ on the local endpoint: sessions, stdin, interrupt, restart, errors."""

from __future__ import annotations

import contextlib
import json
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from kernel_harness import KERNEL, KERNEL_REST, InterruptOnce, Kernel, KernelSetup, run_cell

from backendai_jupyter.sdk import Client, NotFoundError

pytestmark = [pytest.mark.integration, pytest.mark.timeout(180)]

ACTIVE = ("PENDING", "SCHEDULED", "PREPARING", "PULLING", "RUNNING", "RESTARTING", "RUNNING_DEGRADED")


@pytest.fixture(scope="module")
def api(kernel_specs: KernelSetup) -> Iterator[Client]:
    """A sync SDK client for checking what the kernel did on the endpoint."""
    with Client(kernel_specs.endpoint.config()) as client:
        yield client


def sessions_named(api: Client, name: str) -> list[Any]:
    """Active sessions called ``name``."""
    return [s for s in api.sessions.iter_all(status=ACTIVE) if s.name == name]


def state_record(setup: KernelSetup, kernel: Kernel) -> dict[str, Any]:
    """The kernel's ownership record (next to its connection file)."""
    folder = Path(kernel.km.connection_file).parent / "backendai-sessions"
    records = [json.loads(p.read_text()) for p in folder.glob("*.json")]
    name = session_name(kernel)
    found = [r for r in records if r["name"] == name]
    assert found, f"no ownership record for {name} in {folder}"
    return found[0]


def session_name(kernel: Kernel) -> str:
    stem = Path(kernel.km.connection_file).stem
    return "jupyter-" + stem.removeprefix("kernel-")


def test_first_cell_creates_the_session_lazily(start_kernel: Callable[..., Kernel], api: Client) -> None:
    kernel = start_kernel()
    name = session_name(kernel)
    assert kernel.kc.kernel_info(reply=True, timeout=10)["content"]["status"] == "ok"
    assert sessions_named(api, name) == []
    cell = run_cell(kernel.kc, "print('Hello, world!')")
    assert cell.status == "ok", cell
    assert "Hello, world!" in cell.stdout()
    assert len(sessions_named(api, name)) == 1
    # while the session started, one status display was shown and then only updated in place
    status = [(t, c) for t, c in cell.outputs if t.endswith("display_data")]
    if status:
        assert [t for t, _ in status] == ["display_data"] + ["update_display_data"] * (len(status) - 1)
        ids = {c["transient"]["display_id"] for _, c in status}
        assert len(ids) == 1
        assert ids.pop().startswith("backendai-status-")
        assert "RUNNING" in status[-1][1]["data"]["text/plain"]


def test_silent_probe_creates_no_session(start_kernel: Callable[..., Kernel], api: Client) -> None:
    kernel = start_kernel()
    for silent, store_history in ((True, False), (False, False)):
        cell = run_cell(kernel.kc, "import sys", silent=silent, store_history=store_history)
        assert cell.status == "ok"
        assert cell.outputs == []
    assert sessions_named(api, session_name(kernel)) == []


def test_error_fidelity(start_kernel: Callable[..., Kernel]) -> None:
    kernel = start_kernel()
    cell = run_cell(kernel.kc, "x = 1\nprint('before')\nx / 0")
    assert cell.status == "error"
    assert cell.reply["ename"] == "ZeroDivisionError"
    errors = cell.of_type("error")
    assert len(errors) == 1
    assert errors[0]["ename"] == "ZeroDivisionError"
    assert "division by zero" in errors[0]["evalue"]
    assert "before" in cell.stdout()
    # the traceback is not also sent as stderr text
    assert not any("Traceback" in c.get("text", "") for c in cell.of_type("stream"))


@pytest.mark.parametrize("kernel_name", [KERNEL, KERNEL_REST])
def test_stdin_and_password(start_kernel: Callable[..., Kernel], kernel_name: str) -> None:
    kernel = start_kernel(kernel_name)
    answers = {"name: ": "Ada", "secret: ": "hunter2"}
    code = "import getpass\nn = input('name: ')\np = getpass.getpass('secret: ')\nprint('got', n, len(p))"
    cell = run_cell(kernel.kc, code, answer=lambda prompt, password: answers[prompt])
    assert cell.status == "ok", cell
    assert [(r["prompt"], r["password"]) for r in cell.input_requests] == [
        ("name: ", False),
        ("secret: ", True),
    ]
    assert "got Ada 7" in cell.stdout()
    assert "hunter2" not in json.dumps(cell.outputs)


def test_input_without_stdin_fails_cleanly(start_kernel: Callable[..., Kernel]) -> None:
    kernel = start_kernel(KERNEL_REST)
    cell = run_cell(kernel.kc, "input('value? ')")
    assert cell.status == "error"
    assert cell.reply["ename"] == "StdinNotImplementedError"
    after = run_cell(kernel.kc, "print('still alive')")
    assert after.status == "ok"
    assert "still alive" in after.stdout()


@pytest.mark.parametrize("kernel_name", [KERNEL, KERNEL_REST])
def test_interrupt_keeps_state(start_kernel: Callable[..., Kernel], kernel_name: str) -> None:
    kernel = start_kernel(kernel_name)
    assert run_cell(kernel.kc, "y = 123").status == "ok"
    interrupt_once = InterruptOnce(kernel, "sleeping")
    started = time.monotonic()
    cell = run_cell(
        kernel.kc, "import time\nprint('sleeping', flush=True)\ntime.sleep(60)", on_output=interrupt_once
    )
    assert interrupt_once.fired.is_set()
    assert time.monotonic() - started < 30
    assert cell.status == "error"
    assert cell.reply["ename"] == "KeyboardInterrupt"
    assert len(cell.of_type("error")) == 1
    assert kernel.km.is_alive()
    after = run_cell(kernel.kc, "print(y + 1)")
    assert after.status == "ok"
    assert after.stdout().strip() == "124"


def test_restart_keeps_one_session_and_files(start_kernel: Callable[..., Kernel], api: Client) -> None:
    kernel = start_kernel()
    name = session_name(kernel)
    assert run_cell(kernel.kc, "open('kept.txt', 'w').write('still here')\nz = 5").status == "ok"
    kernel.km.restart_kernel(now=False)
    kernel.kc.wait_for_ready(timeout=60)
    assert session_name(kernel) == name
    cell = run_cell(kernel.kc, "print(open('kept.txt').read())\nprint('z' in dir())")
    assert cell.status == "ok", cell
    assert cell.stdout().split() == ["still", "here", "False"]
    assert len(sessions_named(api, name)) == 1


def test_shutdown_destroys_an_owned_session(
    start_kernel: Callable[..., Kernel], api: Client, kernel_specs: KernelSetup
) -> None:
    kernel = start_kernel()
    name = session_name(kernel)
    assert run_cell(kernel.kc, "pass").status == "ok"
    record = state_record(kernel_specs, kernel)
    assert record["owned"] is True
    kernel.stop()
    assert sessions_named(api, name) == []


def test_session_destroyed_behind_the_kernels_back(start_kernel: Callable[..., Kernel], api: Client) -> None:
    kernel = start_kernel()
    assert run_cell(kernel.kc, "pass").status == "ok"
    (session,) = sessions_named(api, session_name(kernel))
    api.sessions.destroy(session.id, forced=True)
    cell = run_cell(kernel.kc, "print('hi')")
    assert cell.status == "error"
    message = cell.reply["evalue"]
    assert "terminated" in message
    assert "run the cell again" in message
    assert len(cell.of_type("error")) == 1
    again = run_cell(kernel.kc, "print('back')")
    assert again.status == "ok", again
    assert "back" in again.stdout()


def test_websocket_streams_output_before_rest_would(start_kernel: Callable[..., Kernel]) -> None:
    code = "import time\nprint('first', flush=True)\ntime.sleep(3)\nprint('second')"
    firsts = {}
    for name in (KERNEL, KERNEL_REST):
        kernel = start_kernel(name)
        assert run_cell(kernel.kc, "pass").status == "ok"
        cell = run_cell(kernel.kc, code)
        assert cell.status == "ok"
        assert cell.stdout().split() == ["first", "second"]
        firsts[name] = cell.times[0]
    # the WebSocket flushes every 0.2 s, REST returns `continued` after its 2 s flush window
    assert firsts[KERNEL] < 1.5, firsts
    assert firsts[KERNEL_REST] >= 1.5, firsts


def test_shutdown_keeps_an_attached_session(start_kernel: Callable[..., Kernel], api: Client) -> None:
    """Attach by configuration (env), run a cell, shut down: the session keeps running."""
    created = api.sessions.create("python", name="kernel-attach-test")
    try:
        kernel = start_kernel(env={**os.environ, "BACKENDAI_JUPYTER_ATTACH": created.name})
        cell = run_cell(kernel.kc, "print('attached')")
        assert cell.status == "ok", cell
        assert "attached" in cell.stdout()
        kernel.stop()
        assert api.sessions.info(created.id).status == "RUNNING"
    finally:
        with contextlib.suppress(NotFoundError):
            api.sessions.destroy(created.id, forced=True)


def test_kernel_info_answers_before_any_session(kernel_specs: KernelSetup) -> None:
    from jupyter_client.manager import KernelManager

    km = KernelManager(kernel_name=KERNEL)
    started = time.monotonic()
    km.start_kernel()
    try:
        kc = km.client()
        kc.start_channels()
        reply = kc.kernel_info(reply=True, timeout=30)
        elapsed = time.monotonic() - started
        assert reply["content"]["status"] == "ok"
        assert reply["content"]["language_info"]["name"] == "python"
        assert reply["content"]["implementation"] == "backendai-jupyter"
        # generous bound for a loaded 2-core CI machine; the 0.5 s target is measured by the benchmarks
        assert elapsed < 10, elapsed
        kc.stop_channels()
    finally:
        km.shutdown_kernel(now=True)


def test_settings_travel_as_trait_arguments(
    start_kernel: Callable[..., Kernel], kernel_specs: KernelSetup
) -> None:
    from backendai_jupyter.kernel.kernelspec import kernel_json

    spec = kernel_json("Backend.AI (traits)", image="python", environ={"BAI_TRAIT_TEST": "from-argv"})
    spec["env"] = kernel_specs.endpoint.env()
    folder = kernel_specs.jupyter_path / "kernels" / "backendai-test-traits"
    folder.mkdir(exist_ok=True)
    (folder / "kernel.json").write_text(json.dumps(spec))
    kernel = start_kernel("backendai-test-traits")
    cell = run_cell(kernel.kc, "import os\nprint(os.environ.get('BAI_TRAIT_TEST'))")
    assert cell.status == "ok", cell
    assert cell.stdout().strip() == "from-argv"


def test_interrupt_while_waiting_for_input(start_kernel: Callable[..., Kernel]) -> None:
    kernel = start_kernel()
    assert run_cell(kernel.kc, "w = 7").status == "ok"

    def interrupt_instead(prompt: str, password: bool) -> str:
        kernel.km.interrupt_kernel()
        time.sleep(2)  # the kernel ends the cell without this answer; it arrives too late and is dropped
        return "ignored"

    cell = run_cell(kernel.kc, "v = input('never answered: ')", answer=interrupt_instead)
    assert cell.status == "error"
    assert cell.reply["ename"] == "KeyboardInterrupt"
    after = run_cell(kernel.kc, "print(w * 6)")
    assert after.status == "ok", after
    assert after.stdout().strip() == "42"


def test_a_bad_setting_is_reported_by_every_cell(start_kernel: Callable[..., Kernel]) -> None:
    kernel = start_kernel(env={**os.environ, "BACKENDAI_JUPYTER_RESOURCES": "cpu"})
    assert kernel.kc.kernel_info(reply=True, timeout=10)["content"]["status"] == "ok"
    cell = run_cell(kernel.kc, "print(1)")
    assert cell.status == "error"
    assert cell.reply["ename"] == "ConfigError"
    assert "BACKENDAI_JUPYTER_RESOURCES" in cell.reply["evalue"]
    assert "'cpu' is not KEY=VALUE" in cell.reply["evalue"]
    assert len(cell.of_type("error")) == 1


def test_backend_attach_magic_switches_the_session(start_kernel: Callable[..., Kernel], api: Client) -> None:
    kernel = start_kernel()
    own = session_name(kernel)
    assert run_cell(kernel.kc, "where = 'own'").status == "ok"
    other = api.sessions.create("python", name="kernel-magic-attach-test")
    try:
        list(api.sessions.run(other.id, "where = 'other'"))
        cell = run_cell(kernel.kc, f"%backend attach {other.name}")
        assert cell.status == "ok", cell
        assert run_cell(kernel.kc, "print(where)").stdout().strip() == "other"
        assert run_cell(kernel.kc, "%backend detach").status == "ok"
        assert run_cell(kernel.kc, "print(where)").stdout().strip() == "own"
        assert run_cell(kernel.kc, f"%backend attach {other.name}").status == "ok"
        kernel.stop()
        # shutdown destroyed the session the kernel created, and left the attached one running
        assert sessions_named(api, own) == []
        assert api.sessions.info(other.id).status == "RUNNING"
    finally:
        with contextlib.suppress(NotFoundError):
            api.sessions.destroy(other.id, forced=True)
